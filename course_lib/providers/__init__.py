"""Providers (lesson 02): the interface (``base``), the adapters (``openai_adapter``, ``anthropic_adapter``,
``completion_adapter`` with ``templates``), replay and recording (``replay``), the fakes (``scripted``,
``faulty``), the local model server (``local``) and the table of provider kinds ``get_provider`` reads
(``registry``).

Import from the submodules; the common names are also exported by :mod:`course_lib`.
"""

__all__: list[str] = []
