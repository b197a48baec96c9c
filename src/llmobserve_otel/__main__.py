from llmobserve_otel.cli import run_main

run_main()
