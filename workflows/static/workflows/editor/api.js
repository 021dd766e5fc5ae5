// Requests to the server with the session cookie and the CSRF header.

export function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (field) return field.value;
  const cookie = document.cookie.split("; ").find((item) => item.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.split("=")[1]) : "";
}

async function answer(response) {
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  return { ok: response.ok, status: response.status, body };
}

export async function postJson(url, body, method = "POST") {
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  return answer(response);
}

export async function postForm(url, form) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    body: new URLSearchParams(form),
  });
  return answer(response);
}
