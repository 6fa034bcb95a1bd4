"""The assignment2 autograder: a task registry, an isolated runner, Gradescope results."""
