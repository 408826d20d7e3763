from cityops.cli.main import main

main()
