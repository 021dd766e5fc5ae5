"""Templates, their immutable versions, ratings and instantiations: persistence only.

`Template.search_vector` is kept by a database trigger (see migration 0001):
weighted A name, B tags and category, C description, D the node types and
model ids the latest version uses. A trigger rather than Python so bulk
loads (the benchmark's 100,000 rows) and every service write agree.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private (publishing team's editors and above)"
    TEAM = "team", "Team (every member of the publishing team)"
    PUBLIC = "public", "Public (every signed-in user)"


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
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            GinIndex(fields=["search_vector"], name="template_search_gin"),
            GinIndex(fields=["name"], name="template_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["tags"], name="template_tags_gin"),
            GinIndex(fields=["node_types"], name="template_node_types_gin"),
            GinIndex(fields=["model_ids"], name="template_model_ids_gin"),
            models.Index(fields=["category"], name="template_category"),
            # "Name starts with …" (the search's name candidates) as an index range scan.
            models.Index(OpClass(Lower("name"), name="text_pattern_ops"), name="template_name_prefix"),
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
