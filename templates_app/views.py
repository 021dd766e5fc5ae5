from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "section_empty.html",
        {
            "title": "Templates",
            "empty_title": "The template marketplace is empty",
            "empty_text": "Templates are reusable, parameterized workflows that teams publish for each other. Published templates appear here, searchable by name, tag and category.",
        },
    )
