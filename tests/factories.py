"""factory_boy factories for the domain. Every NIR they make has a valid key; the PIN of a case is `case.pin`
(kept on the Python object only, for tests: the database holds its argon2 hash)."""

import datetime
import random

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.households.models import Case, Membership, Role
from moncompte.households.services import hash_case_pin
from moncompte.identity.models import Person


def make_nir(sex: str = "1", year: int = 84, month: int = 5, department: str = "75", seq: int | None = None) -> str:
    seq = random.randint(1, 999_999) if seq is None else seq
    commune, order = seq % 999 + 1, (seq // 999) % 999 + 1
    return f"{sex}{year % 100:02d}{month:02d}{department}{commune:03d}{order:03d}"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    nir = factory.Sequence(lambda n: make_nir(seq=n + 1000))
    birth_name = factory.Faker("last_name", locale="fr_FR")
    given_names = factory.Faker("first_name", locale="fr_FR")
    birth_date = datetime.date(1984, 5, 1)
    sex = "M"
    birthplace = "75056"
    birth_country = "99100"
    email_on_file = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    mobile_on_file = factory.Sequence(lambda n: f"+336000{n % 100000:05d}")

    class Params:
        child = factory.Trait(
            birth_date=factory.LazyFunction(lambda: timezone.localdate().replace(year=timezone.localdate().year - 16))
        )


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    case_number = factory.Sequence(lambda n: f"{1_000_000 + n:07d}")
    pin = factory.Sequence(lambda n: f"{20_000_000 + n * 7919 % 80_000_000:08d}")
    pin_hash = factory.LazyAttribute(lambda case: hash_case_pin(case.pin))

    @classmethod
    def _create(cls, model_class, *args, pin=None, **kwargs):
        case = super()._create(model_class, *args, **kwargs)
        case.pin = pin
        return case


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    case = factory.SubFactory(CaseFactory)
    person = factory.SubFactory(PersonFactory)
    role = Role.HOLDER


class AccountFactory(factory.django.DjangoModelFactory):
    """A migrated account: personal password set, e-mail validated, onboarding seen."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    person = factory.SubFactory(PersonFactory)
    login_id = factory.LazyAttribute(lambda account: account.person.nir)
    raw_password = "Tr0mbone-Vert"
    password = factory.LazyAttribute(lambda account: make_password(account.raw_password))
    email = factory.LazyAttribute(lambda account: account.person.email_on_file)
    email_verified_at = factory.LazyFunction(timezone.now)
    password_changed_at = factory.LazyFunction(timezone.now)
    onboarded_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, raw_password=None, **kwargs):
        account = super()._create(model_class, *args, **kwargs)
        account.raw_password = raw_password
        return account


_family_names = iter(range(26**3, 26**4))


def _unique_names() -> dict:
    """Names no other person of the test shares, letters only (a page check for a name then means that person)."""
    n, letters = next(_family_names), ""
    while n:
        n, r = divmod(n, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[r] + letters
    return {"birth_name": f"Nom{letters}", "given_names": f"Prenom{letters}"}


def family(*, partner: bool = True, delegated: bool = False, children: int = 1, partner_account: bool = True):
    """A household for the household pages (delegation, separation): a migrated holder, a partner (migrated unless
    `partner_account=False`, with the delegation if `delegated`), `children` children of 16 without an account.
    Everyone's names are unique. Returns a namespace: case, holder, partner, children (people), holder_account,
    partner_account."""
    from types import SimpleNamespace

    from moncompte.households.models import Delegation, DelegationOrigin

    case = CaseFactory(address="3 rue des Lilas\n75011 Paris")
    holder_account = AccountFactory(person=PersonFactory(**_unique_names()))
    MembershipFactory(case=case, person=holder_account.person, role=Role.HOLDER)
    result = SimpleNamespace(
        case=case, holder=holder_account.person, holder_account=holder_account, partner=None, partner_account=None
    )
    if partner:
        result.partner = PersonFactory(sex="F", **_unique_names())
        if partner_account:
            result.partner_account = AccountFactory(person=result.partner)
        MembershipFactory(case=case, person=result.partner, role=Role.PARTNER)
        if delegated:
            Delegation.objects.create(
                case=case, partner=result.partner, origin=DelegationOrigin.HOLDER, granted_by=result.holder
            )
    result.children = [
        MembershipFactory(case=case, role=Role.CHILD, person=PersonFactory(child=True, **_unique_names())).person
        for _ in range(children)
    ]
    return result
