from xlfunding.cli import main

main()
