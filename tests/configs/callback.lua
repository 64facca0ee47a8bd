-- A pane_spawn callback boxes in one pane; pane_exit records exit codes.
hexe.defaults { profile = "none" }

hexe.on("pane_spawn", function(pane)
  if pane.name == "untrusted" or (pane.kind == "run" and pane.title == "hostname") then
    pane.isolation.profile = "full"
  end
end)

hexe.on("pane_exit", function(pane, code)
  local path = os.getenv("HEXE_TEST_EXIT_LOG")
  if path then
    local f = io.open(path, "a")
    f:write((pane.name or pane.title or "?") .. " " .. code .. "\n")
    f:close()
  end
end)

hexe.layout {
  hexe.tab {
    hexe.split {
      hexe.pane { name = "trusted", command = "hostname" },
      hexe.pane { name = "untrusted", command = "hostname" },
    },
  },
}
