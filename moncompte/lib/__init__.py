"""Pure helpers with no models, shared by every app (DESIGN §4): `lib` imports no app of the project."""
