from libra.cli.main import main

main()
