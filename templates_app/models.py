"""Templates, their immutable versions, ratings and instantiations: persistence only.

Search columns (docs/templates.md, "Search"). Words are split the way people
read them by `templates_app.domain.search_text`, in Python, when a template
is saved: `name_key` and the `search_extra_*` words, stamped with
`search_checksum` of the text they came from. A database trigger (migrations
0001, 0004) then builds `name_vector` (the name alone) and `search_vector`
(weighted A name, B tags and category, C description, D the node types and
model ids the latest version uses) from PostgreSQL's own reading of the text
plus those extra words, and refuses a row whose checksum does not match its
text — so every write path, bulk loads included, either splits words or
fails loudly, and the index is never silently stale.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

from templates_app.domain import search_text


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private (publishing team's editors and above)"
    TEAM = "team", "Team (every member of the publishing team)"
    PUBLIC = "public", "Public (every signed-in user)"


# The fields a search may be filtered by (`selectors.matching.filter_sql`), indexed beside its vectors.
SEARCH_FILTER_FIELDS = ("category", "tags", "node_types", "model_ids", "verified", "team")


class Template(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=120, unique=True)
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="templates")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.CharField(max_length=60, blank=True, default="")
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.TEAM)
    verified = models.BooleanField(default=False)
    featured = models.BooleanField(default=False)
    deprecated = models.BooleanField(default=False)
    rating_average = models.FloatField(default=0.0)
    rating_count = models.IntegerField(default=0)
    rating_total = models.IntegerField(default=0)
    usage_count = models.IntegerField(default=0)
    latest_version = models.CharField(max_length=32, blank=True, default="")
    # What the latest version uses, for filters and the search vector.
    node_types = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    model_ids = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)
    # Written by save() from name, description, category and tags (see the module docstring).
    name_key = models.CharField(max_length=400, blank=True, default="", editable=False)
    search_extra_name = models.TextField(blank=True, default="", editable=False)
    search_extra_tags = models.TextField(blank=True, default="", editable=False)
    search_extra_description = models.TextField(blank=True, default="", editable=False)
    search_checksum = models.CharField(max_length=32, blank=True, default="", editable=False)
    # Written by the trigger: the name's own vector, and its number of words.
    name_vector = SearchVectorField(null=True, editable=False)
    name_length = models.SmallIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            # The search's text conditions with its filters beside them (btree_gin for
            # the scalar columns): a filtered search reads the few entries both
            # share instead of ANDing the bitmaps of every template in a category
            # or with a tag (docs/templates.md, "Sixth session").
            GinIndex(fields=["search_vector", *SEARCH_FILTER_FIELDS], name="template_search_filters_gin"),
            GinIndex(fields=["name_vector", *SEARCH_FILTER_FIELDS], name="template_name_filters_gin"),
            # The name stage of search takes the shortest matching names first. For
            # a word in many names this index lists names shortest first with
            # what the match and visibility need, so an index-only scan stops early.
            models.Index(fields=["name_length", "id"], include=["name_vector", "visibility", "team"],
                         name="template_name_length"),
            GinIndex(fields=["name"], name="template_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["tags"], name="template_tags_gin"),
            GinIndex(fields=["node_types"], name="template_node_types_gin"),
            GinIndex(fields=["model_ids"], name="template_model_ids_gin"),
            models.Index(fields=["category"], name="template_category"),
            # "Name starts with …" (the search's name candidates) as an index range scan, with
            # what visibility and the filters check, so a range with few matches is read without
            # the table (docs/templates.md, "Seventh session").
            models.Index(fields=["name_key"], opclasses=["text_pattern_ops"],
                         include=["id", "visibility", *SEARCH_FILTER_FIELDS], name="template_name_key_covering"),
            models.Index(fields=["-usage_count", "id"], name="template_popular"),
            models.Index(fields=["-created_at", "id"], name="template_newest"),
            models.Index(fields=["-rating_average", "id"], name="template_rating"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(visibility__in=[v.value for v in Visibility]),
                                   name="template_visibility_valid"),
            models.CheckConstraint(condition=Q(rating_count__gte=0) & Q(usage_count__gte=0)
                                   & Q(rating_total__gte=0), name="template_counts_non_negative"),
            models.CheckConstraint(condition=Q(rating_average__gte=0) & Q(rating_average__lte=5),
                                   name="template_rating_average_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Split the searchable text into words before every write (the trigger checks it was done)."""
        columns = search_text.template_search_columns(name=self.name, description=self.description,
                                                      category=self.category, tags=self.tags)
        for column, value in columns.items():
            setattr(self, column, value)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and SEARCH_SOURCE_FIELDS & set(update_fields):
            kwargs["update_fields"] = [*update_fields, *SEARCH_WORD_FIELDS]
        super().save(*args, **kwargs)


SEARCH_SOURCE_FIELDS = frozenset({"name", "description", "category", "tags"})
SEARCH_WORD_FIELDS = ("name_key", "search_extra_name", "search_extra_tags", "search_extra_description",
                      "search_checksum")  # the keys of search_text.template_search_columns


class TemplateVersion(models.Model):
    """One immutable version: the document with placeholders and its parameters."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=32)
    major = models.IntegerField()
    minor = models.IntegerField()
    patch = models.IntegerField()
    document = models.JSONField()
    parameters = models.JSONField(default=list)
    examples = models.JSONField(default=list)
    changelog = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-major", "-minor", "-patch"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="template_version_unique"),
            models.UniqueConstraint(fields=["template", "major", "minor", "patch"],
                                    name="template_version_numbers_unique"),
            models.CheckConstraint(condition=Q(major__gte=0) & Q(minor__gte=0) & Q(patch__gte=0),
                                   name="template_version_numbers_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} {self.version}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("Template versions are immutable; publish a new version instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Rating(models.Model):
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stars = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "user"], name="rating_one_per_user"),
            models.CheckConstraint(condition=Q(stars__gte=1) & Q(stars__lte=5), name="rating_stars_range"),
        ]

    def __str__(self) -> str:
        return f"{self.stars} stars"


class Instantiation(models.Model):
    """A workflow's origin: which template version made it, with which parameters."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template_version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT,
                                         related_name="instantiations")
    workflow = models.OneToOneField("workflows.Workflow", on_delete=models.CASCADE,
                                    related_name="template_origin")
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    parameters = models.JSONField(default=dict)
    overrides = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["template_version", "-created_at"], name="instantiation_by_version")]

    def __str__(self) -> str:
        return f"{self.template_version_id} → {self.workflow_id}"


class SearchWord(models.Model):
    """The vocabulary of template names, tags and categories, for correcting typos.

    Filled by the same trigger as the search vector. A typo is corrected by
    trigram similarity against this small table (thousands of rows), then
    searched for normally — much cheaper than fuzzy-matching every name.
    """

    word = models.CharField(max_length=60, primary_key=True)

    class Meta:
        indexes = [GinIndex(fields=["word"], name="search_word_trgm", opclasses=["gin_trgm_ops"])]

    def __str__(self) -> str:
        return self.word
