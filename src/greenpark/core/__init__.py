"""Pure calculations on numbers and arrays: no I/O, no ORM, no globals.

Every public function implements one published formula; its docstring gives units in brackets
and cites the clause or table it implements.
"""
