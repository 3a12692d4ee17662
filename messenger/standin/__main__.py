from messenger.standin.cli import main

main()
