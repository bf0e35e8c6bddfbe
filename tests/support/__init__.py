"""Helpers that several test files import.

conftest.py files hold fixtures (and pytest hooks) only: pytest finds and loads them itself, per
directory, and a test module never imports one as a library. A helper that more than one test
file uses -- a function, a constant, a class, a fake -- lives in a module of this package, named
for what it holds, and test files and conftest files alike import it from here:

- ``waiting``: polling until something holds (``eventually``, ``wait_for``);
- ``idp_objects``: OidcIdentityProvider objects as a user writes them and as the API server
  shows them (``manifest``, ``new_name``, ``get_object``, ``condition``, ``with_condition``,
  ``events_of``);
- ``simulator_calls``: counting the EKS calls the simulator saw (``calls``, ``eks_calls``);
- ``e2e_operator``: the operator as a real process under the chart's RBAC
  (``running_operator``);
- ``kind_release``: the kind tier's release (its constants, ``Release``, ``idp``, ``values``,
  ``published``);
- ``factories``: builders of objects, EKS observations and contexts for unit tests, and
  ``FakeEks``.
"""
