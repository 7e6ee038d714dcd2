"""The page's pure rules: the ledger's money as typed values (``money``), the actions and their
keys (``actions``), the page's words in each language (``texts``). No I/O."""
