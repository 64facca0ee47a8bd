return { cc = os.getenv("HEXE_TEST_CC") or "cc" }
