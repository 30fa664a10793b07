"""Bad inputs of the bases beyond EfficientNet (issue 26). Same format as bad_input_cases.py."""

CASES: list[tuple[str, list[str], str]] = [
    # (what, argv, a fragment the one-line answer must contain)
    ("block: unknown kind prefix", ["arch", "show", "zz_r1_k3_s11_i32_o16"], "unknown op prefix"),
    ("bottleneck: expansion does not divide its channels", ["arch", "show", "bt_r1_k3_s11_e3_i64_o256"],
     "must divide"),
    ("fused-MBConv: a field its kind does not take", ["arch", "show", "er_r1_k3_s11_e4_i24_o48_poolskip"],
     "takes no 'poolskip'"),
    ("basic block: an expansion", ["arch", "show", "rb_r2_k3_s11_e4_i64_o64"], "takes no 'e'"),
    ("ResNet depth that is not a preset", ["arch", "show", "resnet-20"], "not a preset"),
    ("ResNet base of a family: depth not a preset", ["family", "--base", "resnet-42", "--targets", "8G"],
     "not a preset"),
    ("width 0 (stages of no channels; any positive width keeps one divisor)", ["arch", "show", "resnet-50",
                                                                          "--width", "0"], "width"),
]
