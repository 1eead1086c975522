"""gunicorn settings shared by the HTTP services (`gunicorn -c python:shared.gunicorn_conf`).

Bind address, workers and threads come from the command line that
run_all_services.sh writes; this file only adds the hooks every service needs.
"""

from shared.metrics import mark_worker_dead

# Workers must not be killed while a long batch request or a model load runs.
timeout = 120
graceful_timeout = 30
accesslog = None  # the apps log requests themselves, with request ids


def child_exit(server, worker):  # noqa: ANN001 - gunicorn hook signature
    mark_worker_dead(worker.pid)


# gunicorn 25+ opens a control socket at one fixed path per user by default, so
# two instances on a machine would collide; nothing here uses gunicornc.
control_socket_disable = True
