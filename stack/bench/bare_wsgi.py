"""The ceiling for `make bench`: the smallest WSGI app, served by the same gunicorn settings as the product.

gunicorn -c app/gunicorn.conf.py stack.bench.bare_wsgi:application
"""

BODY = b"ok"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
