-- hexe's default configuration, and a tour of every setting.
--
-- Copy it to ~/.config/hexe/init.lua (or $XDG_CONFIG_HOME/hexe/init.lua) and
-- edit. Every active line below sets exactly what hexe uses when there is no
-- file at all, so a copy changes nothing until you change it. Check a config
-- with `hexe config check [PATH]`: it prints every pane's settings and where
-- each came from, or every error with its line.
--
-- Settings are layered, lowest first:
--   built-in < hexe.defaults here < HEXE_* environment < a pane's isolation
--   < command-line flags
-- so HEXE_VOIDBOX_PROFILE=full still wins over `profile` below, and a pane's
-- own `isolation = {...}` wins over both.
--
-- `require("name")` loads lua/name.lua next to this file; os.getenv works.
-- The file runs with a budget (2 s of CPU, 64 MiB): an endless loop is a
-- config error, not a hung hexe. It runs first in a child process that is
-- killed after 5 s, then in hexe; callbacks get 0.5 s each. Nothing that can
-- block is there: no os.execute, io.popen, io.read, io.lines; io.open opens
-- regular files only; no C modules (HEXE_LUA_C_MODULES=1 turns them on);
-- string patterns that could backtrack for long are refused
-- (docs/config.md, "Containment").

------------------------------------------------------------------------------
-- Isolation defaults for every pane and every `hexe run`.
------------------------------------------------------------------------------
hexe.defaults {
  -- none | minimal | default | balanced | full | sandbox, or a profile of yours
  --   none      no isolation (limits set here or in HEXE_CGROUP_* still apply)
  --   minimal   user namespace (root inside; outside you stay who you are)
  --   default   user + pid: the pane sees only its own processes
  --   balanced  user + pid + mount: and a fresh, private /tmp
  --   full      every namespace: no network but loopback, hostname "hexe"
  --   sandbox   like full, but the network is kept
  profile = "default",

  -- cgroup limits; leave out (or "max") for no limit. A pane with limits may
  -- not open panes from inside (`hexe split-right` there is refused: the new
  -- pane's limits would come on top); the prefix key splits it as usual.
  -- memory = "2G",              -- bytes, or K/M/G/T: "512M", "1.5G"
  -- pids = 1000,                -- how many processes at most
  -- cpu = "200000 100000",      -- "quota period" in microseconds: 2 cores

  tmp_size = "128M",             -- size of the fresh /tmp (mount namespace)
  hostname = "hexe",             -- hostname inside a uts namespace
  strict = false,                -- true: refuse to start when a limit cannot be applied

  -- What the pane can reach (docs/isolation.md, Network): "host" (the host's
  -- network), "loopback" (lo only: what full gives) or "user" (a network of
  -- its own through pasta, package passt: the internet, but not the host's
  -- 127.0.0.1 services nor the LAN). Unset: what the profile gives.
  -- network = "user",
  -- network_allow = { "127.0.0.1:5432" },  -- user: these host services, same port
  -- network_lan = false,                    -- user: true lets the private ranges in

  -- Capabilities kept inside (every other one is dropped, from all five sets).
  -- By profile: full and sandbox keep none; minimal, default and balanced the
  -- ordinary set (chown dac_override fowner fsetid kill setgid setuid setpcap
  -- net_bind_service net_raw sys_chroot mknod audit_write setfcap); none all.
  -- caps = { keep = { "net_bind_service" } },   -- or keep = {} / keep = "all"

  -- The seccomp filter. full and sandbox load the default one (kernel modules,
  -- kexec, reboot, bpf, perf_event_open, userfaultfd, keyctl, io_uring,
  -- TIOCSTI, new user namespaces...: EPERM); minimal, default and balanced
  -- only the tiocsti rule (no typing into your terminal); none no filter.
  -- seccomp = { deny = { "ptrace" }, allow = { "userns" }, action = "errno" },
  -- seccomp = true,             -- the default filter in any profile
  -- seccomp = false,            -- no default filter; the tiocsti rule stays
  -- seccomp = { defaults = false, allow = { "tiocsti" } },  -- no filter at all

  -- Filesystem actions, in order (profiles with a pid or mount namespace).
  -- mounts = {
  --   { ro = "~" },                               -- a read-only home
  --   { rw = "~/src/project", to = "/work" },     -- a read-write bind
  --   { tmpfs = "/var/cache/build", size = "512M" },
  --   { mask = "~/.ssh" },                        -- empty and unreadable
  -- },

  -- A root of its own: pivot_root into a tree with proc, dev and tmp in it.
  -- rootfs = "/srv/roots/debian",
}

------------------------------------------------------------------------------
-- Profiles of your own: a set of namespaces plus any isolation settings.
-- Usable wherever a built-in profile name is.
------------------------------------------------------------------------------
-- hexe.profile("build", {
--   namespaces = { "user", "pid", "mount" },
--   tmp_size = "1G",
--   memory = "8G",
--   description = "builds: private /tmp, network kept",
-- })

------------------------------------------------------------------------------
-- The multiplexer.
------------------------------------------------------------------------------
hexe.options {
  shell = os.getenv("SHELL") or "/bin/sh",  -- what a pane runs with no command
  scrollback = 10000,       -- lines kept per pane
  prefix = "C-b",           -- the prefix key, as in tmux
  remain_on_exit = false,   -- keep a pane on screen after its command ends
  mouse = true,             -- click to focus, wheel to scroll
  client_timeout = 30,      -- drop a client that takes no output for this long
  spawn_ahead = true,       -- prepare the next split's sandbox in advance (fast splits)
  answer_checksums = false, -- true: answer DECRQCRA (esctest reads screens so); own pane only
  mode_keys = "vi",         -- copy mode's keys: "vi" or "emacs" (tmux's mode-keys)
  set_clipboard = true,     -- programs may set your clipboard with OSC 52 (tmux's set-clipboard);
                            -- a sandboxed pane also needs isolation.clipboard = "write"
  set_titles = false,       -- true: the terminal's title follows the focused pane's (sanitized)
  monitor_activity = false, -- true: a hidden tab with new output is flagged # (tmux's monitor-activity)
  follow_cwd = true,        -- splits (and new tabs beside an unsandboxed pane) start in its current dir
}

hexe.status {
  -- segments: session, tabs, title, isolation, clock, host, or a function
  -- returning text, e.g. function() return os.date("%H:%M") end
  left = { "session", "tabs" },
  right = { "title", "isolation", "clock" },
  interval = 1,             -- seconds between refreshes (only with clock or functions)
}

------------------------------------------------------------------------------
-- Key bindings: hexe.key(keys, action, args...) or hexe.key(keys, function).
-- Keys: a character or a name (Up, Down, Left, Right, Enter, Tab, Escape,
-- Space, BSpace, Home, End, PageUp, PageDown, F1..F12) with C- (Ctrl),
-- M- (Alt), S- (Shift); "prefix X" is the prefix key, then X.
-- hexe.unbind("prefix z") removes one; hexe.unbind("all") every default.
------------------------------------------------------------------------------
hexe.key("prefix %", "split-right")
hexe.key('prefix "', "split-down")
hexe.key("prefix Left", "focus-left")
hexe.key("prefix Right", "focus-right")
hexe.key("prefix Up", "focus-up")
hexe.key("prefix Down", "focus-down")
hexe.key("prefix o", "focus-next")
hexe.key("prefix ;", "last-pane")          -- tmux's ;: the pane focused before
-- layouts, as tmux's keys (docs/panes-and-tabs.md#layouts)
hexe.key("prefix M-1", "select-layout", "even-horizontal")
hexe.key("prefix M-2", "select-layout", "even-vertical")
hexe.key("prefix M-3", "select-layout", "main-horizontal")
hexe.key("prefix M-4", "select-layout", "main-vertical")
hexe.key("prefix M-5", "select-layout", "tiled")
hexe.key("prefix Space", "next-layout")
hexe.key("prefix E", "spread")
hexe.key("prefix {", "swap-pane", "-U")
hexe.key("prefix }", "swap-pane", "-D")
hexe.key("prefix C-o", "rotate")
hexe.key("prefix M-o", "rotate", "-D")
hexe.key("prefix !", "break-pane")
hexe.key("prefix .", "move-tab")
hexe.key("prefix &", "close-tab")          -- asks close tab N? (y/n) first
hexe.key("prefix l", "last-tab")
hexe.key("prefix C-Left", "resize-left")
hexe.key("prefix C-Right", "resize-right")
hexe.key("prefix C-Up", "resize-up")
hexe.key("prefix C-Down", "resize-down")
hexe.key("prefix z", "zoom")
hexe.key("prefix x", "close-pane")
hexe.key("prefix c", "new-tab")
hexe.key("prefix n", "next-tab")
hexe.key("prefix p", "prev-tab")
for n = 0, 9 do -- tabs count from 0, as on the status line ("0:code* 1:build")
  hexe.key("prefix " .. n, "select-tab", n)
end
hexe.key("prefix ,", "rename-tab")
hexe.key("prefix [", "copy-mode")
hexe.key("prefix ]", "paste")
hexe.key("prefix d", "detach")
hexe.key("prefix ?", "help")
hexe.key("prefix r", "reload-config")
-- floating panes (docs/panes-and-tabs.md#floating-panes): a shell over the
-- tiles, with the focused pane's isolation; show/hide the layer; move and
-- resize the focused float (or drag its title bar, edges and corners)
hexe.key("prefix W", "new-float")            -- hexe.key("prefix S", "new-float", "full")
hexe.key("prefix F", "toggle-floats")
for _, dir in ipairs({ "Left", "Right", "Up", "Down" }) do
  hexe.key("prefix S-" .. dir, "move-float-" .. dir:lower())
  hexe.key("prefix C-S-" .. dir, "resize-float-" .. dir:lower())
end
hexe.key("prefix M-f", "float-pane")         -- the tiled pane onto the floating layer
hexe.key("prefix M-e", "embed-pane")         -- the float back into the layout

------------------------------------------------------------------------------
-- Events.
--   pane_spawn(pane): before a pane (or `hexe run`) spawns. pane.name,
--     pane.title, pane.path, pane.kind ("pane" or "run"), pane.command,
--     pane.cwd and pane.effective (what it would get) are for reading;
--     change pane.isolation to change this pane's isolation.
--   pane_exit(pane, exit_code): after a pane's command ended.
------------------------------------------------------------------------------
-- hexe.on("pane_spawn", function(pane)
--   if pane.title == "untrusted" then
--     pane.isolation.profile = "full"
--     pane.isolation.memory = "512M"
--   end
-- end)

------------------------------------------------------------------------------
-- The layout hexe mux starts with: tabs, splits and panes. A pane has
-- name, title, command (a string run by the shell, or a list), cwd, env,
-- remain_on_exit and its own isolation. A split has direction ("right":
-- side by side, "down": stacked), ratio (the first child's share) and two
-- children. A tab's floats (hexe.float: a pane's settings plus width,
-- height, x, y in cells or fractions, and shown) float over its tiles.
-- `hexe run --pane NAME` runs one pane of it in the foreground.
------------------------------------------------------------------------------
-- hexe.layout {
--   hexe.tab { name = "code",
--     hexe.split { direction = "right", ratio = 0.6,
--       hexe.pane { name = "editor", command = "nvim", cwd = "~/src" },
--       hexe.pane { name = "untrusted", command = "bash",
--                   isolation = { profile = "full", memory = "512M", pids = 100 } },
--     },
--   },
--   hexe.tab { name = "build",
--     hexe.pane { name = "make", command = { "make", "-j4" },
--                 env = { CC = "clang" }, isolation = { profile = "balanced" } },
--     -- a locked-down scratch shell, hidden until prefix F
--     floats = { hexe.float { name = "scratch", isolation = { profile = "full" },
--                             width = 0.6, height = 0.5, shown = false } },
--   },
-- }
hexe.layout {
  hexe.tab { hexe.pane {} },
}
