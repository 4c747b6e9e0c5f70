from longtail.cli import main

if __name__ == "__main__":  # a spawned ranking worker imports this module: no CLI run there
    main()
