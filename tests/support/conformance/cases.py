"""The synthetic conformance cases: one control function (or one interplay) each.

Each case is ``name -> (bytes, cols, rows)``. They are played into tmux by
``scripts/conformance_record.py`` (its screen goes to ``tmux.json``) and into
hexe by ``tests/unit/test_conformance.py``. Most start from :data:`FILL`, a screen
of distinct rows, so that what a function moves or erases shows.
"""

from __future__ import annotations

COLS, ROWS = 20, 8
ESC = "\x1b"
CSI = ESC + "["

#: Rows "a0123456789abcdefghi", "b0123…", … and the cursor left at row 4, column 10.
FILL = (
    CSI
    + "H"
    + "\r\n".join(f"{chr(97 + y)}0123456789abcdefghi"[:COLS] for y in range(ROWS))
    + CSI
    + "5;11H"
)

CASES: dict[str, tuple[str, int, int]] = {}


def case(name: str, text: str, cols: int = COLS, rows: int = ROWS) -> None:
    assert name not in CASES, name
    CASES[name] = (text, cols, rows)


# -- cursor motion, each with counts 0 (= 1), 1, 3 and past the edge ---------------
for final, what in [
    ("A", "CUU"),
    ("B", "CUD"),
    ("C", "CUF"),
    ("D", "CUB"),
    ("E", "CNL"),
    ("F", "CPL"),
    ("G", "CHA"),
    ("`", "HPA"),
    ("a", "HPR"),
    ("d", "VPA"),
    ("e", "VPR"),
    ("I", "CHT"),
    ("Z", "CBT"),
]:
    for count in ("", "1", "3", "100"):
        case(f"{what} {count or 'default'}", FILL + f"{CSI}{count}{final}*")
for params in ("", "3", "3;7", ";7", "100;100", "0;0", "8;20"):
    case(f"CUP {params or 'default'}", FILL + f"{CSI}{params}H*")
    case(f"HVP {params or 'default'}", FILL + f"{CSI}{params}f*")

# -- erasing, plain and with a background colour (BCE) ------------------------------
for final, what, params in [("J", "ED", ("", "0", "1", "2")), ("K", "EL", ("", "0", "1", "2"))]:
    for p in params:
        case(f"{what} {p or 'default'}", FILL + f"{CSI}{p}{final}")
        case(f"{what} {p or 'default'} with blue background", FILL + f"{CSI}44m{CSI}{p}{final}X")
for p in ("", "1", "5", "100"):
    case(f"ECH {p or 'default'}", FILL + f"{CSI}{p}X")
    case(f"ICH {p or 'default'}", FILL + f"{CSI}{p}@")
    case(f"DCH {p or 'default'}", FILL + f"{CSI}{p}P")
    case(f"IL {p or 'default'}", FILL + f"{CSI}{p}L")
    case(f"DL {p or 'default'}", FILL + f"{CSI}{p}M")
    case(f"SU {p or 'default'}", FILL + f"{CSI}{p}S")
    case(f"SD {p or 'default'}", FILL + f"{CSI}{p}T")
case("ECH in red", FILL + f"{CSI}41m{CSI}4X")
case("DCH in red", FILL + f"{CSI}41m{CSI}4P")
case("ICH in red", FILL + f"{CSI}41m{CSI}4@")

# -- scrolling regions -------------------------------------------------------------
REGION = FILL + f"{CSI}3;6r"
for what, seq in [
    ("IL", f"{CSI}4;1H{CSI}2L"),
    ("DL", f"{CSI}4;1H{CSI}2M"),
    ("SU", f"{CSI}2S"),
    ("SD", f"{CSI}2T"),
    ("LF at bottom margin", f"{CSI}6;3H\n\nx"),
    ("RI at top margin", f"{CSI}3;3H{ESC}M{ESC}Mx"),
    ("IND", f"{CSI}6;3H{ESC}D{ESC}Dx"),
    ("NEL", f"{CSI}6;3H{ESC}E{ESC}Ex"),
    ("LF below the region", f"{CSI}8;3H\n\n\nx"),
    ("RI above the region", f"{CSI}2;3H{ESC}M{ESC}M{ESC}Mx"),
    ("IL outside the region", f"{CSI}8;1H{CSI}L"),
    ("DL outside", f"{CSI}1;1H{CSI}M"),
    ("CUU stops at top margin", f"{CSI}5;5H{CSI}10Ax"),
    ("CUD stops at bottom margin", f"{CSI}4;5H{CSI}10Bx"),
    ("CUD below the region goes to the last row", f"{CSI}7;5H{CSI}10Bx"),
    ("text wrapping at the bottom margin", f"{CSI}6;15Hwrapping text here"),
    ("origin mode CUP", f"{CSI}?6h{CSI}2;3Hx"),
    ("origin mode CUP clamped to the region", f"{CSI}?6h{CSI}20;3Hx"),
    ("origin mode home", f"{CSI}?6h{CSI}Hx"),
    ("origin mode VPA", f"{CSI}?6h{CSI}3dx"),
    ("origin mode VPA clamped", f"{CSI}?6h{CSI}30dx"),
    ("origin mode off again", f"{CSI}?6h{CSI}?6l{CSI}2;3Hx"),
    ("DECSTBM homes the cursor", "x"),
    ("DECSTBM reset", f"{CSI}r{CSI}8;1H\nx"),
    ("invalid region ignored", f"{CSI}6;3r{CSI}8;1H\nx"),
]:
    case(f"region: {what}", REGION + seq)

# -- autowrap and the pending-wrap position -------------------------------------------
EDGE = FILL + f"{CSI}2;1H" + "W" * COLS  # the cursor waits after the last column
for what, seq in [
    ("then text", "xy"),
    ("then CR", "\rx"),
    ("then LF", "\nx"),
    ("then BS", "\bx"),
    ("then HT", "\tx"),
    ("then CUF", f"{CSI}Cx"),
    ("then CUB", f"{CSI}Dx"),
    ("then CUU", f"{CSI}Ax"),
    ("then CUD", f"{CSI}Bx"),
    ("then CHA", f"{CSI}5Gx"),
    ("then EL", f"{CSI}Kx"),
    ("then ECH", f"{CSI}Xx"),
    ("then DCH", f"{CSI}Px"),
    ("then ICH", f"{CSI}@x"),
    ("then DECSC DECRC", f"{ESC}7{ESC}8x"),
    ("then wide char", "日"),
    ("then RI", f"{ESC}Mx"),
    ("then SGR", f"{CSI}1mx"),
    ("then DSR-less nothing", ""),
]:
    case(f"pending wrap {what}", EDGE + seq)
case("autowrap off", FILL + f"{CSI}?7l{CSI}2;15Hlong text past the edge")
case("autowrap off then on", FILL + f"{CSI}?7l{CSI}2;15Habcdefgh{CSI}?7h{CSI}3;18Habcdef")
case("autowrap off wide char at edge", FILL + f"{CSI}?7l{CSI}2;19H日本")
case("wide char wraps at the edge", FILL + f"{CSI}2;20H日x")
case("wide chars filling a row", CSI + "H" + "日本語" * 8)
case("wide char over the right half of another", CSI + "H日本" + CSI + "1;2Hx")
case("wide char over the left half of another", CSI + "H日本" + CSI + "1;1Hx")
case("narrow chars over a wide one", CSI + "H日本語" + CSI + "1;3Habc")
case("combining marks", CSI + "He\u0301a\u0308 o\u0302\u0323")
case("emoji", CSI + "H😀 ok 🎉!")
case("wide char erased by EL from its right half", CSI + "H日本語" + CSI + "1;4H" + CSI + "K")
case("ICH through wide chars", CSI + "H日本語x" + CSI + "1;1H" + CSI + "@")
case("DCH through wide chars", CSI + "H日本語x" + CSI + "1;1H" + CSI + "P")

# -- tabs ---------------------------------------------------------------------------------
for what, seq in [
    ("default stops", "\tx\ty\tz"),
    ("HT at the last stop", "\t\t\t\tx"),
    ("HTS", f"{CSI}1;4H{ESC}H{CSI}1;1H\tx"),
    ("TBC 0", f"{CSI}1;9H{CSI}g{CSI}1;1H\tx"),
    ("TBC 3", f"{CSI}3g{CSI}1;1H\tx"),
    ("CHT 2", f"{CSI}1;1H{CSI}2Ix"),
    ("CBT from the end", f"{CSI}1;20H{CSI}Zx"),
    ("CBT 2", f"{CSI}1;20H{CSI}2Zx"),
    ("HT over text keeps it", "abcdefghij\rab\tX"),
]:
    case(f"tabs: {what}", CSI + "H" + CSI + "2J" + seq)

# -- SGR ------------------------------------------------------------------------------------
for code in [
    "1",
    "2",
    "3",
    "4",
    "5",
    "7",
    "8",
    "9",
    "21",
    "22",
    "23",
    "24",
    "25",
    "27",
    "28",
    "29",
    "1;22",
    "2;22",
    "1;2;22",
    "4;24",
    "7;27",
    "30",
    "31",
    "37",
    "39",
    "40",
    "41",
    "47",
    "49",
    "90",
    "97",
    "100",
    "107",
    "38;5;1",
    "38;5;100",
    "38;5;255",
    "48;5;17",
    "38;2;1;2;3",
    "48;2;250;128;0",
    "38:2::1:2:3",
    "38:5:100",
    "4:3",
    "4:0",
    "4:1",
    "4:2",
    "4:4",
    "4:5",
    "4:3;24",
    "4:3;4",
    "21;4",
    "58;5;196",
    "58;5;9;59",
    "58;2;1;2;3",
    "58:2::1:2:3",
    "58:5:7",
    "4:3;58;5;9",
    "58;5;9;0",
    "1;31;44",
    "0",
    "",
    "31;0;32",
    "1;7;31;42;4",
    "38;5;9",
]:
    case(f"SGR {code or 'empty'}", f"{CSI}H{CSI}2Jab{CSI}1;4;31m{CSI}{code}mcd{CSI}0mef")

# -- save and restore, charsets, misc -------------------------------------------------------
case("DECSC DECRC position and attributes", FILL + f"{CSI}1;31m{ESC}7{CSI}0m{CSI}H{ESC}8x")
case("DECRC with nothing saved", FILL + f"{CSI}1;31m{ESC}8x")
case("SCOSC SCORC", FILL + f"{CSI}s{CSI}Hx{CSI}uy")
case("DECRC twice", FILL + f"{ESC}7{CSI}Hx{ESC}8y{CSI}1;1H{ESC}8z")
case("DECSC saves autowrap", FILL + f"{CSI}?7l{ESC}7{CSI}?7h{ESC}8{CSI}2;15Habcdefgh")
case("DECSC saves origin mode", FILL + f"{CSI}3;6r{CSI}?6h{ESC}7{CSI}?6l{ESC}8{CSI}Hx")
case("DECSC saves charset", FILL + f"{ESC}(0{ESC}7{ESC}(B{ESC}8{CSI}Hqqxj")
case("DEC special graphics G0", CSI + "H" + ESC + "(0lqqk\r\nx  x\r\nmqqj" + ESC + "(Bok")
case("DEC special graphics G1 with SO SI", CSI + "H" + ESC + ")0\x0elqk\x0f lqk")
case("DEC special graphics all", CSI + "H" + ESC + "(0`abcdefghijklmnopqrstuvwxyz{|}~" + ESC + "(B")
case("UK charset", CSI + "H" + ESC + "(A#a" + ESC + "(B#")
case("DECALN", FILL + f"{ESC}#8")
case("DECALN resets margins and homes", FILL + f"{CSI}3;5r{ESC}#8x\n\n\n\n\n\n\ny")
case("REP", CSI + "Hab" + CSI + "3bc")
case("REP after a control", CSI + "Hab\r" + CSI + "3b")
case("REP after a wide char", CSI + "H日" + CSI + "2b")
case("REP after an escape", CSI + "Hab" + CSI + "1m" + CSI + "2b")
case("REP with nothing printed", CSI + "H" + CSI + "5bx")
case("IRM insert mode", FILL + f"{CSI}4h{CSI}1;3HXY{CSI}4l{CSI}2;3HZ")
case("IRM pushes off the edge", FILL + f"{CSI}4h{CSI}1;1H{'I' * 25}")
case("LNM-less LF keeps the column", CSI + "Hab\ncd\n")
case("BS at column 0", CSI + "2;1H\b\bx")
case("CR LF mix", "ab\rc\r\nd\n\re")
case("VT and FF act as LF", "a\x0bb\x0cc")
case("DECSCNM reverse screen", FILL + f"{CSI}?5h{CSI}41mred")
case("DECSCNM on then off", FILL + f"{CSI}?5h{CSI}?5l")
case("RIS", FILL + f"{CSI}1;31m{ESC}cx")
case("DECSTR keeps text", FILL + f"{CSI}1;31m{CSI}!px")
case("DECSET 1049 and back", FILL + f"{CSI}?1049h{CSI}Halt screen{CSI}?1049lx")
case("DECSET 47 and back", FILL + f"{CSI}?47h{CSI}Halt{CSI}?47lx")
case("DECSET 1047 clears on exit", FILL + f"{CSI}?1047h{CSI}Halt{CSI}?1047lx")
case(
    "DECSC slots of the main and alternate screens are apart",
    FILL + f"{CSI}2;3H{ESC}7{CSI}4;4H{CSI}?1049h{CSI}6;7H{ESC}7{CSI}?1049l{ESC}8x",
)
case("DECSET 1048 saves the cursor", FILL + f"{CSI}?1048h{CSI}Hx{CSI}?1048ly")
case("alt screen with region", FILL + f"{CSI}?1049h{CSI}2;4r{CSI}4;1H\n\nz{CSI}?1049l")
case("hidden cursor is still moved", FILL + f"{CSI}?25l{CSI}3;3Hx")
case("C1 CSI 8-bit ignored as text", "a\u009b2Jb")
case("unknown CSI ignored", FILL + f"{CSI}5;5~{CSI}?999hx")
case("unknown ESC ignored", FILL + f"{ESC}Yx")
case("OSC title not printed", FILL + f"{ESC}]2;title\x07x{ESC}]0;t2{ESC}\\y")
case("DCS not printed", FILL + f"{ESC}Pq#0;1;2\x1b\\x")
case("APC not printed", FILL + f"{ESC}_hello{ESC}\\x")
case("OSC 8 hyperlink not printed", FILL + f"{ESC}]8;;http://e.org/{ESC}\\link{ESC}]8;;{ESC}\\x")
case("OSC 8 hyperlink with id, BEL", FILL + f"{ESC}]8;id=1;http://e.org/\x07ab{ESC}]8;;\x07c")
case("C0 inside CSI", FILL + f"{CSI}2\r;5Hx")
case("CAN aborts a sequence", FILL + f"{CSI}2\x18Hx")
case("DEL ignored", "a\x7fb")
case("CSI with many parameters", FILL + f"{CSI}1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;31mx")
case("1x1 screen", "abc\r\nd", 1, 1)
case("wide char on a one-column screen", "日x", 1, 3)
case("wide char on a two-column screen", "a日b日", 2, 3)
case("scroll into history", "".join(f"line {i}\r\n" for i in range(20)) + "end")
case("long line wrapping many rows", "x" * 70 + "y")
case("ED 2 then text", FILL + f"{CSI}2Jx")
case("EL 1 at column 0", FILL + f"{CSI}1G{CSI}1K")
case("EL 1 at the last column", FILL + f"{CSI}20G{CSI}1K")
case("ED 1 at the origin", FILL + f"{CSI}H{CSI}1J")
case("DECSTBM then LF fills region", f"{CSI}2;4r" + "".join(f"{i}\n" for i in range(9)))
case("tab stops after CUP past them", f"{CSI}1;15H\tx")
