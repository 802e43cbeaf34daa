"""The dashboard's pickers list the caller's organization only, in order."""

from sqlalchemy import insert, select

from app.models import Account, App, MachineUser, db
from app.services import callers, directory, orgs
from tests.conftest import Api


def test_pickers_list_only_the_callers_organization_sorted(app, client, org, other_org):
    for name in ("zeta", "alpha"):
        Api(client, org.admin_token).post("/users", {"name": name})
    Api(client, other_org.admin_token).post("/users", {"name": "beta"})
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == org.admin_email))
        orgs.create_admin(callers.operator(org.id), account.org, "aaron@acme.test")
        caller = callers.from_account(account)
        assert [u.name for u in directory.machine_users(caller)] == ["alpha", "zeta"]
        assert [a.email for a in directory.accounts(caller)] == [
            "aaron@acme.test", org.admin_email]


def test_the_app_picker_lists_only_the_callers_organization_sorted(app, org, other_org):
    from app.services import apps

    with app.app_context():
        mine, theirs = (callers.from_account(orgs.get_account(o.admin_email))
                        for o in (org, other_org))
        for caller, name in ((mine, "Zeppelin"), (theirs, "Beacon"), (mine, "Atlas")):
            apps.create(caller, name, ["https://app.example.test/cb"])
        assert [a.name for a in directory.apps(mine)] == ["Atlas", "Zeppelin"]
        assert [a.name for a in directory.apps(theirs)] == ["Beacon"]


def test_pickers_list_at_most_500_of_each_kind(app, org):
    with app.app_context():
        admin = orgs.get_account(org.admin_email)
        rows = range(directory.LIMIT)  # and the admin: one person more than a picker lists
        db.session.execute(insert(Account), [
            {"org_id": admin.org_id, "uid": f"p{i}@ids.test", "email": f"p{i}@acme.test",
             "role": "member"} for i in rows])
        db.session.execute(insert(MachineUser), [
            {"org_id": admin.org_id, "name": f"m{i}", "client_id": f"mu-{i}", "scope": "",
             "created_by": admin.uid} for i in (*rows, -1)])
        db.session.execute(insert(App), [
            {"org_id": admin.org_id, "name": f"a{i}", "client_id": f"app-{i}",
             "redirect_uris_json": "[]", "created_by": admin.uid} for i in (*rows, -1)])
        caller = callers.from_account(admin)
        assert [len(directory.accounts(caller)), len(directory.machine_users(caller)),
                len(directory.apps(caller))] == [directory.LIMIT] * 3
