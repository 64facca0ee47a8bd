hexe.defaults { profile = "fulll", memroy = "2G" }
hexe.options { scrollback = "lots", prefx = "C-a" }
hexe.profile("full", { namespaces = { "user" } })
hexe.profile("build", { namespaces = { "user", "mnt" }, tmp_size = "huge" })
hexe.key("prefix %", "split-rigth")
hexe.key("prefix Lef", "zoom")
hexe.on("pane_spwan", function() end)
hexe.layout {
  hexe.tab { name = "code",
    hexe.split { direction = "left",
      hexe.pane { title = 5, command = 7 },
      hexe.pane { isolation = { memroy = "1G", memory = "lots", cpu = "50000", pids = 0 } },
    },
  },
}
