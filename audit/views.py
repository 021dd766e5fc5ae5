from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "section_empty.html",
        {
            "title": "Audit log",
            "empty_title": "No audit entries to show",
            "empty_text": "Every action in your team — sign-ins, membership changes, tokens, workflow edits and runs — is recorded here in an append-only, verifiable log.",
        },
    )
