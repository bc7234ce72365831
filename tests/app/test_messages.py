"""The words people read: similarity as a percentage, and why a file cannot be a query."""

import struct

import pytest

from app.messages import ACCEPTED, SIMILARITY_HELP, file_problem_message, refused_file_message, similarity_text


@pytest.mark.parametrize("score, text", [(1.0, "100%"), (0.2834, "28%"), (0.776, "78%"), (0.0, "0%"),
                                         (-0.004, "0%"), (-0.051, "−5%"), (-1.0, "−100%")])
def test_similarity_is_a_whole_percentage_with_its_sign(score, text):
    assert similarity_text(score) == text


def test_the_similarity_legend_says_what_the_number_is():
    assert "cosine similarity" in SIMILARITY_HELP and "100%" in SIMILARITY_HELP and "0%" in SIMILARITY_HELP


@pytest.mark.parametrize("name, what, todo", [
    ("report.docx", "a document", "drop a 3D shape file"),
    ("bracket.stp", "a CAD model", "export it from your CAD program as a mesh (STL or OBJ)"),
    ("scene.fbx", "a 3D scene", "export the shape as OBJ, PLY, STL or glTF"),
    ("photo.JPG", "an image", "drop a 3D shape file"),
    ("shapes.zip", "an archive", "unpack it"),
    ("notes", "a file without a type suffix", "drop a 3D shape file"),
    ("data.weird", "a .weird file, a type the browser does not read", "drop a 3D shape file"),
])
def test_a_refused_file_is_named_with_what_it_is_and_what_to_do(name, what, todo):
    text = refused_file_message(name)
    first, second = text.splitlines()
    assert first.startswith(f"{name} cannot be used as a query: it is {what}")
    assert todo in second and ACCEPTED in second
    assert ".inr" in ACCEPTED and ".obj" in ACCEPTED and ".xyz" in ACCEPTED


def test_a_dropped_folder_is_pointed_to_open_store(tmp_path):
    assert "Open Store" in refused_file_message(tmp_path)


def test_a_broken_inr_gets_words_not_byte_counts(tmp_path):
    from inret_engine.store import InrFileError, load_shape_inr

    bad = tmp_path / "chair.inr"
    bad.write_bytes(struct.pack("<Q", 7837008598389945438) + b"{}" * 8)
    with pytest.raises(InrFileError) as caught:
        load_shape_inr(bad)
    text = file_problem_message(bad, caught.value.problem)
    assert text.startswith("chair.inr could not be read: the file is damaged or is not an INR file.")
    assert "What to do:" in text and "7837008598389945438" not in text and "oversize header" in text


def test_a_broken_mesh_says_to_check_it_in_a_viewer():
    text = file_problem_message("/data/cup.obj", "/data/cup.obj: no faces and no vertices")
    assert text.startswith("cup.obj could not be read: the mesh could not be used.")
    assert "opens in a 3D viewer" in text and "(Technical note: no faces and no vertices.)" in text
