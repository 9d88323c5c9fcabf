from gensuite.cli.main import run

run()
