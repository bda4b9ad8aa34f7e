"""One module per subcommand; each exposes `register(app)` and keeps heavy imports inside the command."""
