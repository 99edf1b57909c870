"""gunicorn's configuration for Mon Compte (`gunicorn -c python:moncompte.gunicorn_conf`, as `make run` does).

gunicorn writes its own access and error logs, outside Django's LOGGING: without this, a request for an invitation
link or a "Ce n'était pas moi" link would land in the access log with its bearer token (DESIGN §7). The logger
below passes what the client sent (request line, path, query, headers) through `moncompte.logging.redact`, the same
masking as the application's logs, and puts the application's filter on gunicorn's error log.
"""

from gunicorn.glogging import Logger

from moncompte.logging import RedactSecretsFilter, redact

#: Access-log atoms that carry what the client sent: request line, path, query string, referer, user agent. Request
#: headers (`{name}i`), response headers (`{name}o`: a Location) and WSGI variables (`{name}e`: RAW_URI…) too.
#: Sizes and timings are left alone (a response of 1234567 bytes is not a PIN).
CLIENT_ATOMS = frozenset({"r", "U", "q", "f", "a"})
_ERROR_FILTER = RedactSecretsFilter()


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and (key in CLIENT_ATOMS or key.startswith("{")):
                atoms[key] = redact(value)
        return atoms

    def setup(self, cfg):
        super().setup(cfg)
        # "Error handling request /invitation/…": the error log quotes the URI of a request that failed.
        self.error_log.addFilter(_ERROR_FILTER)


logger_class = RedactingLogger
