"""Small helpers shared by every layer: unwrapping models, listing image files. Imports only torch and the stdlib."""
