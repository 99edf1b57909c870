"""What every channel's views say of a form."""


def form_status(form) -> int:
    """400 for a form sent back with errors, so tests and tools see a refusal; 200 otherwise."""
    return 400 if form.is_bound and form.errors else 200
