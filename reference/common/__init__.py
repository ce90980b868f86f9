"""What both reference portals share: settings parsing, operators, document storage,
notifications."""
