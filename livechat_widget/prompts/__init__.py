"""The built-in prompt templates (``/explain``, ``/fix``, ``/tests``, ``/doc``), one
Markdown file each (prompt_templates.py reads them). A package so the wheel has them."""
