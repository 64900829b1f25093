from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class ServiceLevelAgreement(models.Model):
    """What each team promises the other. Metrics read the version in effect at a handoff."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"

    version = models.PositiveIntegerField(unique=True)
    effective_from = models.DateTimeField(
        help_text="The version applies to handoffs made from this moment on."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    first_contact_hours = models.DecimalField(
        "first contact within (hours), X",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    attempts = models.PositiveSmallIntegerField(
        "contact attempts, Y", validators=[MinValueValidator(1)]
    )
    attempt_spacing_days = models.DecimalField(
        "days between attempts, Z",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    monthly_sal_commitment = models.PositiveIntegerField(
        "SALs marketing commits per month, N", validators=[MinValueValidator(1)]
    )
    business_days = models.CharField(
        max_length=13,
        blank=True,
        help_text="ISO weekdays that count as business days, e.g. 1,2,3,4,5; empty = every hour counts.",
    )
    business_start = models.TimeField(null=True, blank=True)
    business_end = models.TimeField(null=True, blank=True)
    business_timezone = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = "service-level agreement"
        constraints = [
            models.CheckConstraint(
                condition=Q(first_contact_hours__gte=0), name="sla_first_contact_hours_gte_0"
            ),
            models.CheckConstraint(condition=Q(attempts__gte=1), name="sla_attempts_gte_1"),
            models.CheckConstraint(
                condition=Q(business_days="")
                | (Q(business_start__isnull=False) & Q(business_end__isnull=False)),
                name="sla_business_hours_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"SLA v{self.version} ({self.get_status_display()})"

    @property
    def uses_business_hours(self) -> bool:
        return bool(self.business_days)
