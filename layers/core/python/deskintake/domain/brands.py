"""Brands: each inbox and chat channel with its own policy (hours, languages, SLAs, categories).

One deployment serves several brands. A brand owns inbound addresses (exact, "@domain" for a
whole domain, or "*" for whatever no other brand owns), chat channel ids, a sender identity for
acknowledgements, the languages it answers in, its business calendar and SLA targets, the
subset of categories it files under, and overrides of the acknowledgement texts.

Pure: `load_brands(path)` reads a JSON file only when called (like follow-up config).
"""

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deskintake.domain.follow_up_policy import BusinessHours, FollowUpConfig, SlaTarget
from deskintake.domain.model import Category, Channel, Lang, Priority

DEFAULT_BRAND = "default"
ADMIN_GROUP = "admin"  # the Cognito group (or local user flag) that sees every brand
CATCH_ALL = "*"
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")

_KNOWN_CATEGORIES = [str(c) for c in Category]


class _Frozen(BaseModel):
    # Schemas built on first validation (an operator's brands file), not at import: about 8 ms
    # of every intake cold start. The packaged default is constructed without them.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


def _category(value: object, where: str) -> Category:
    try:
        return Category(str(value))
    except ValueError:
        raise ValueError(f"unknown category id {value!r} in {where}; known categories: "
                         f"{', '.join(_KNOWN_CATEGORIES)}") from None


class AckTemplate(_Frozen):
    """Overrides of one language's acknowledgement; `{id}` is the ticket, `{brand}` its name."""

    intro: str | None = None  # first paragraph of the email acknowledgement
    reply_hint: str | None = None  # last paragraph of the email acknowledgement
    chat_intro: str | None = None  # first sentence of a chat acknowledgement
    next_default: str | None = None  # "what happens next" when no category text applies
    next: dict[Category, str] = Field(default_factory=dict)  # per category
    signature: str | None = None  # appended to email acknowledgements

    @field_validator("next", mode="before")
    @classmethod
    def _next_categories(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {_category(k, "ack template"): v for k, v in value.items()}
        return value


class ChatChannels(_Frozen):
    """The platform-side ids that identify the brand's chat channels."""

    whatsapp_phone_number_ids: frozenset[str] = frozenset()
    telegram_bot_ids: frozenset[str] = frozenset()
    livechat_site_ids: frozenset[str] = frozenset()

    def ids(self, channel: Channel) -> frozenset[str]:
        return {Channel.WHATSAPP: self.whatsapp_phone_number_ids,
                Channel.TELEGRAM: self.telegram_bot_ids,
                Channel.LIVECHAT: self.livechat_site_ids}.get(channel, frozenset())


class SenderIdentity(_Frozen):
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(min_length=1, max_length=200)


class Brand(_Frozen):
    """One brand's configuration. Omitted settings mean today's single-desk behaviour."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    display_name: str = "Customer Support"
    addresses: frozenset[str] = frozenset()
    channels: ChatChannels = Field(default_factory=ChatChannels)
    sender: SenderIdentity | None = None  # None: the deployment's DESKINTAKE_SENDER
    languages: tuple[Lang, ...] = (Lang.ID, Lang.EN, Lang.ZH)
    round_the_clock: bool = False  # every SLA clock on the wall clock, every day
    business_hours: BusinessHours | None = None  # None: the follow-up config's
    first_response: dict[Priority, SlaTarget] | None = None  # None: the follow-up config's
    next_response: dict[Priority, SlaTarget] | None = None
    categories: frozenset[Category] | None = None  # None: every category
    fallback_category: Category = Category.GENERAL_INQUIRY
    ack_templates: dict[Lang, AckTemplate] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _not_admin(cls, value: str) -> str:
        if value == ADMIN_GROUP:
            raise ValueError(f"{ADMIN_GROUP!r} is the group that sees every brand, not a brand id")
        return value

    @field_validator("addresses", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        if isinstance(value, Iterable) and not isinstance(value, str):
            return frozenset(str(a).strip().lower() for a in value if str(a).strip())
        return value

    @field_validator("categories", mode="before")
    @classmethod
    def _known_categories(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValueError("categories must be a list of category ids")
        return frozenset(_category(v, "brand categories") for v in value)

    @field_validator("fallback_category", mode="before")
    @classmethod
    def _known_fallback(cls, value: Any) -> Any:
        return _category(value, "fallback_category")

    @field_validator("languages")
    @classmethod
    def _some_language(cls, value: tuple[Lang, ...]) -> tuple[Lang, ...]:
        if not value:
            raise ValueError("a brand answers in at least one language")
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _fallback_is_used(self) -> "Brand":
        if self.categories is not None and self.fallback_category not in self.categories:
            raise ValueError(f"brand {self.id!r}: fallback_category {self.fallback_category} "
                             "must be one of its categories")
        return self

    # -- policy --------------------------------------------------------------------------

    def allows(self, category: Category) -> bool:
        """Spam is always spam: a brand's subset never turns junk into a ticket to triage."""
        return self.categories is None or category in self.categories or category == Category.SPAM

    def answer_lang(self, lang: Lang) -> Lang:
        """The customer's language when the brand answers in it, else the brand's first."""
        return lang if lang in self.languages else self.languages[0]

    def template(self, lang: Lang) -> AckTemplate | None:
        return self.ack_templates.get(lang)


class BrandsConfig(_Frozen):
    """Every brand of the deployment, and which one takes what nobody else owns."""

    brands: tuple[Brand, ...] = Field(min_length=1)
    default_brand: str | None = None  # unknown chat channels go here; None: kept and reported

    @model_validator(mode="after")
    def _consistent(self) -> "BrandsConfig":
        return self._checked()

    def _checked(self) -> "BrandsConfig":
        ids = [b.id for b in self.brands]
        if len(set(ids)) != len(ids):
            raise ValueError(f"brand ids must be unique: {ids}")
        if self.default_brand is not None and self.default_brand not in ids:
            raise ValueError(f"default_brand {self.default_brand!r} is not a configured brand")
        owners: dict[str, str] = {}
        for brand in self.brands:
            for address in brand.addresses:
                if address in owners:
                    raise ValueError(f"address {address!r} belongs to both {owners[address]!r} "
                                     f"and {brand.id!r}")
                owners[address] = brand.id
            for channel in (Channel.WHATSAPP, Channel.TELEGRAM, Channel.LIVECHAT):
                for channel_id in brand.channels.ids(channel):
                    key = f"{channel}#{channel_id}"
                    if key in owners:
                        raise ValueError(f"{channel} id {channel_id!r} belongs to both "
                                         f"{owners[key]!r} and {brand.id!r}")
                    owners[key] = brand.id
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(b.id for b in self.brands)

    def get(self, brand_id: str | None) -> Brand:
        """The brand; an id not (or no longer) configured keeps today's unrestricted policy."""
        for brand in self.brands:
            if brand.id == brand_id:
                return brand
        # _valid_id is the id field's check: the rest are defaults, so no validation is needed.
        return Brand.model_construct(id=brand_id if _valid_id(brand_id) else DEFAULT_BRAND)

    def for_address(self, address: str) -> Brand | None:
        """The brand owning `address`: exact address, then its domain ("@domain"), then "*"."""
        address = address.strip().strip("<>").lower()
        if not address:
            return None
        domain = "@" + address.rpartition("@")[2]
        for key in (address, domain):
            for brand in self.brands:
                if key in brand.addresses:
                    return brand
        return None

    def catch_all(self) -> Brand | None:
        return next((b for b in self.brands if CATCH_ALL in b.addresses), None)

    def route_email(self, *candidates: Sequence[str]) -> tuple[Brand | None, list[str]]:
        """The brand of the first owned address, trying each list in order of trust.

        Callers pass SES receipt recipients first, then Delivered-To / X-Original-To, then
        To. Returns (brand or None, the addresses tried), so a miss can be reported by name.
        """
        tried: list[str] = []
        for addresses in candidates:
            for address in addresses:
                clean = address.strip().strip("<>").lower()
                if not clean or clean in tried:
                    continue
                tried.append(clean)
                if (brand := self.for_address(clean)) is not None:
                    return brand, tried
        return self.catch_all(), tried

    def for_channel(self, channel: Channel, channel_id: str | None) -> Brand | None:
        """The brand of a chat channel id; unknown (or absent) ids go to the default brand."""
        if channel_id:
            for brand in self.brands:
                if str(channel_id) in brand.channels.ids(channel):
                    return brand
        if self.default_brand is not None:
            return self.get(self.default_brand)
        if len(self.brands) == 1 and not any(b.channels.ids(channel) for b in self.brands):
            return self.brands[0]  # a single-brand deployment owns all its channels
        return None

    def visible_to(self, groups: Iterable[str]) -> tuple[str, ...]:
        """The brands an agent in `groups` may see: the admin group sees every brand."""
        groups = set(groups)
        if ADMIN_GROUP in groups:
            return self.ids
        return tuple(b for b in self.ids if b in groups)


def _valid_id(value: str | None) -> bool:
    return value is not None and _ID.fullmatch(value) is not None and value != ADMIN_GROUP


def follow_up_config(base: FollowUpConfig, brand: Brand) -> FollowUpConfig:
    """The follow-up policy for one brand: its calendar and SLA targets over the base config."""
    update: dict[str, Any] = {}
    if brand.business_hours is not None:
        update["business_hours"] = brand.business_hours
    for name in ("first_response", "next_response"):
        targets = getattr(brand, name)
        table = dict(targets if targets is not None else getattr(base, name))
        if brand.round_the_clock:
            table = {p: t.model_copy(update={"round_the_clock": True}) for p, t in table.items()}
        if targets is not None or brand.round_the_clock:
            update[name] = table
    return base.model_copy(update=update) if update else base


def parse_brands(data: Mapping[str, Any] | str | bytes) -> BrandsConfig:
    """Validate a brands document (a mapping or JSON text); errors name the bad field."""
    if isinstance(data, str | bytes):
        data = json.loads(data)
    return BrandsConfig.model_validate(data)


def load_brands(path: str | Path | None = None) -> BrandsConfig:
    """The brands file at `path`, or the packaged default (one brand, today's behaviour)."""
    if path:
        return parse_brands(Path(path).read_text(encoding="utf-8"))
    return _packaged()


@functools.cache
def _packaged() -> BrandsConfig:
    text = resources.files("deskintake.config").joinpath("brands.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return _construct_packaged(data) or parse_brands(data)


# What the packaged brands.json uses; a brand with any other setting is validated in full.
_PACKAGED_BRAND_KEYS = frozenset({"id", "display_name", "addresses", "languages"})


def _construct_packaged(data: Any) -> BrandsConfig | None:
    """The packaged brands built by the models' own checks, without pydantic's schemas.

    Anything beyond the packaged file's simple shape returns None, and the caller validates in
    full (with the usual errors). The tests check that both paths give the same configuration.
    """
    try:
        if not isinstance(data, dict) or not set(data) <= {"brands", "default_brand"}:
            return None
        raw_brands, default = data.get("brands"), data.get("default_brand")
        if not isinstance(raw_brands, list) or not raw_brands:
            return None
        if default is not None and not isinstance(default, str):
            return None
        brands = []
        for raw in raw_brands:
            if not isinstance(raw, dict) or not set(raw) <= _PACKAGED_BRAND_KEYS:
                return None
            values: dict[str, Any] = {}
            brand_id, name = raw.get("id"), raw.get("display_name", "Customer Support")
            if not isinstance(brand_id, str) or not _valid_id(brand_id) or not isinstance(name, str):
                return None
            values["id"] = brand_id
            if "display_name" in raw:
                values["display_name"] = name
            if "addresses" in raw:
                addresses = raw["addresses"]
                if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
                    return None
                values["addresses"] = Brand._lower(addresses)
            if "languages" in raw:
                languages = raw["languages"]
                if not isinstance(languages, list) or not all(isinstance(v, str) for v in languages):
                    return None
                values["languages"] = Brand._some_language(tuple(Lang(v) for v in languages))
            brands.append(Brand.model_construct(**values))
        values = {"brands": tuple(brands)}
        if "default_brand" in data:
            values["default_brand"] = default
        return BrandsConfig.model_construct(**values)._checked()
    except (TypeError, ValueError):
        return None
