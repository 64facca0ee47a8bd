-- A real-looking config: custom profile, defaults, a layout with isolation per pane.
local site = require("site")   -- tests/configs/lua/site.lua

hexe.defaults { profile = "balanced", memory = "2G" }

hexe.profile("build", {
  namespaces = { "user", "pid", "mount" },
  tmp_size = "1G",
  memory = "4G",
})

hexe.options { scrollback = 5000, prefix = "C-a" }

hexe.layout {
  hexe.tab { name = "code",
    hexe.split { direction = "right", ratio = 0.6,
      hexe.pane { name = "editor", command = "vi", cwd = "/" },
      hexe.split { direction = "down",
        hexe.pane { name = "untrusted", isolation = { profile = "full", memory = "512M", pids = 100 } },
        hexe.pane { name = "web", isolation = { profile = "sandbox", cpu = "50000 100000" } },
      },
    },
  },
  hexe.tab { name = "build",
    hexe.pane { name = "make", command = { "make", "-j4" }, env = { CC = site.cc },
                isolation = { profile = "build" } },
  },
}
