from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "section_empty.html",
        {
            "title": "Workflows",
            "empty_title": "No workflows in this team yet",
            "empty_text": "A workflow is a graph of inputs, AI model calls, data operators and control nodes. Workflows you create, import or instantiate from a template appear here.",
        },
    )
