from deelwijs.cli import main

main()
