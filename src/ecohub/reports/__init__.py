"""Environmental quality reports (环境质量月报/年报): figures from stored data, editable templates, DOCX and PDF
rendering, kept issues. Depends on analytics and supervision (see ARCHITECTURE.md)."""
