"""Personal-information rights of contacts (PIPL): what is held, the lawful basis, the
access-request export, correction, erasure that leaves no name behind, and the retention
rule.

Split by concern: :mod:`.names` (finding a name in free text, pure), :mod:`.relations`
(which tables relate to a contact or an account, found from the models), :mod:`.consent`,
:mod:`.export`, :mod:`.erasure` and :mod:`.retention` (the services), :mod:`.selectors`
(reads for the pages and the API), :mod:`.views` and :mod:`.api`.
"""
