"""The park itself, the floor every other room stands on: which park a session works on, its users
and their scope, the audit trail and record history, and the tables its plan publishes."""
