// Starts Swagger UI on /docs (kept out of the page so that no inline script is needed).
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.openapi, domNode: root, deepLinking: true, docExpansion: "none" });
});
