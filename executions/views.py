from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "section_empty.html",
        {
            "title": "Executions",
            "empty_title": "Nothing has run yet",
            "empty_text": "Each run of a workflow appears here live, with its state, progress and every node's result.",
        },
    )
