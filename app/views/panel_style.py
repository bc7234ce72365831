"""Small style pieces shared by the map, cutaway and 3D panels.

``resources/style.qss`` does not style check boxes, and on the dark theme an unticked
box is nearly invisible; the panels set :data:`CHECKBOX_QSS` on their own boxes.
"""

CHECKBOX_QSS = (
    "QCheckBox { spacing: 6px; background: transparent; }"
    "QCheckBox::indicator { width: 12px; height: 12px; border: 1px solid #5a6472; border-radius: 3px;"
    " background: #16181c; }"
    "QCheckBox::indicator:hover { border-color: #7fb2f0; }"
    "QCheckBox::indicator:checked { background: #3d7cc9; border-color: #5d9be0; }"
    "QCheckBox::indicator:disabled { border-color: #353b45; background: #1e2126; }"
    "QCheckBox:disabled { color: #5c6470; }"
)
