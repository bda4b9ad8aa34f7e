from attrgraph_cli.cli import main

main()
