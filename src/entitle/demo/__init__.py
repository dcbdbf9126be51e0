"""`entitle demo`: the whole system on its embedded default, in one command.

One module per job: `run` (start everything, watch, stop), `options` (the options and their
defaults), `layout` (the data folder), `city` (the synthetic city), `accounts` (one per role),
`children` (the processes' command lines and environments), `procs` (starting and stopping
processes), `launch` (a child that dies with the demo), `signing` (the test CA), `inscriptions`
(the desk examples in the KSZ directory), `examples` (INSZ to try, test-case tables), `summary`
(what it prints), `campaigns` and `follow_up` (the background campaigns' process), `web` (the web
app with the city's ground truth).

The package itself imports nothing: callers import from the module that does the job, so the
demo's child processes (``python -m entitle.demo.launch``, ``….campaigns``) start without the
demo's own imports.
"""
