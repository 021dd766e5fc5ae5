"""Audit entries as the API shows them: read-only."""

from __future__ import annotations

from rest_framework import serializers

from audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer[AuditEntry]):
    team = serializers.UUIDField(source="team_id", allow_null=True, read_only=True)
    actor = serializers.IntegerField(source="actor_id", allow_null=True, read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id", "team", "sequence", "occurred_at", "actor", "actor_name", "actor_type", "event_type",
            "target_type", "target_id", "target_name", "execution_id", "reason", "details",
            "ip_address", "user_agent", "prev_hash", "hash",
        ]
        read_only_fields = fields


class AuditPageSerializer(serializers.Serializer[object]):
    results = AuditEntrySerializer(many=True)
    next = serializers.CharField(allow_null=True)


class ChainBreakSerializer(serializers.Serializer[object]):
    seq = serializers.IntegerField()
    reason = serializers.ChoiceField(
        choices=["edited", "deleted", "inserted", "reordered", "backdated", "truncated"]
    )


class VerificationSerializer(serializers.Serializer[object]):
    valid = serializers.BooleanField()
    checked = serializers.IntegerField()
    first_break = ChainBreakSerializer(allow_null=True)
