"""WIDER FACE evaluation: the official .mat structure, hand-computable APs, the reference port, landmark NME."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from tests.eval.widerface_cases import (
    HAND_GT,
    HAND_PERFECT,
    REAL_GT,
    REFERENCE_DIR,
    TOOL,
    needs_real_gt,
    needs_reference,
    write_gt,
)
from yolo_attention.data.widerface_pose import FACE_LANDMARKS, FacePose
from yolo_attention.eval.widerface import (
    SUBSETS,
    evaluate_widerface,
    landmark_nme,
    read_ground_truth,
    read_prediction_file,
    read_predictions,
    score_widerface,
    write_predictions,
)


@pytest.fixture
def hand_gt(tmp_path):
    return read_ground_truth(write_gt(tmp_path / "gt", HAND_GT))


def aps(ground_truth, predictions):
    result = score_widerface(ground_truth, {k: np.array(v, float) for k, v in predictions.items()})
    return [result.subsets[s].ap for s in SUBSETS]


def load_tool():
    spec = importlib.util.spec_from_file_location("check_widerface_reference", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestGroundTruth:
    def test_written_files_read_back_in_the_official_structure(self, hand_gt):
        assert [image.key for image in hand_gt.images] == ["0--Parade/0_Parade_a", "0--Parade/0_Parade_b"]
        a = hand_gt.images[0]
        assert a.boxes.tolist() == [[0, 0, 20, 20], [100, 100, 20, 20], [200, 200, 10, 10]]
        assert {s: a.subsets[s].tolist() for s in SUBSETS} == {"easy": [0], "medium": [0, 1], "hard": [0, 1]}
        assert (hand_gt.n_faces(), hand_gt.n_faces("easy"), hand_gt.n_faces("hard")) == (4, 2, 3)
        assert hand_gt.event_of("0_Parade_b.jpg") == "0--Parade" and hand_gt.event_of("nope") is None

    def test_a_missing_file_is_named(self, tmp_path):
        folder = write_gt(tmp_path / "gt", HAND_GT)
        (folder / "wider_medium_val.mat").unlink()
        with pytest.raises(FileNotFoundError, match="wider_medium_val.mat"):
            read_ground_truth(folder)

    def test_a_file_that_is_not_matlab_is_refused(self, tmp_path):
        folder = write_gt(tmp_path / "gt", HAND_GT)
        (folder / "wider_easy_val.mat").write_text("not a mat file")
        with pytest.raises(ValueError, match="wider_easy_val.mat"):
            read_ground_truth(folder)

    @needs_real_gt
    def test_the_real_files(self):
        gt = read_ground_truth(REAL_GT)
        assert (len(gt.images), gt.n_faces(), len(gt.events)) == (3226, 39708, 61)
        assert [gt.n_faces(s) for s in SUBSETS] == [7211, 13319, 31958]
        first = gt.images[0]
        assert first.key == "0--Parade/0_Parade_marchingband_1_465" and first.boxes[0].tolist() == [345, 211, 4, 4]


class TestHandComputedAP:
    """The official rule on cases small enough to work out by hand (comments give the curves)."""

    def test_perfect_predictions_give_one(self, hand_gt):
        assert aps(hand_gt, HAND_PERFECT) == [1.0, 1.0, 1.0]

    def test_one_missed_face(self, hand_gt):
        missed = {**HAND_PERFECT, "0--Parade/0_Parade_b": []}  # b0 counts in every subset
        assert aps(hand_gt, missed) == pytest.approx([1 / 2, 2 / 3, 2 / 3])

    def test_one_false_positive_ranked_first(self, hand_gt):
        # easy: FP (r 0, p 0), a0 (1/2, 1/2), b0 (1, 2/3); the envelope is 2/3 everywhere
        # hard: FP, a0 (1/3, 1/2), b0 (2/3, 2/3), a1 (1, 3/4); the envelope is 3/4 everywhere
        fp = {**HAND_PERFECT, "0--Parade/0_Parade_b": [[0, 0, 30, 30, 0.7], [300, 300, 30, 30, 0.9]]}
        assert aps(hand_gt, fp) == pytest.approx([2 / 3, 3 / 4, 3 / 4])

    def test_a_face_outside_the_subset_neither_counts_nor_penalises(self, hand_gt):
        on_ignored = {k: [list(r) for r in v] for k, v in HAND_PERFECT.items()}
        on_ignored["0--Parade/0_Parade_a"][2][4] = 0.9  # the ignored face a2, ranked first
        assert aps(hand_gt, on_ignored) == [1.0, 1.0, 1.0]
        moved_off = {k: [list(r) for r in v] for k, v in on_ignored.items()}
        moved_off["0--Parade/0_Parade_a"][2][:2] = [400, 400]  # the same box on no face: a false positive
        assert aps(hand_gt, moved_off) == pytest.approx([2 / 3, 3 / 4, 3 / 4])

    def test_a_duplicate_ranked_first_takes_the_face(self, hand_gt):
        # easy: dup (1/2, 1), a0 now a duplicate (1/2, 1/2), b0 (1, 2/3): 1/2 * 1 + 1/2 * 2/3
        dup = {k: [list(r) for r in v] for k, v in HAND_PERFECT.items()}
        dup["0--Parade/0_Parade_a"].append([1, 1, 20, 20, 0.9])
        assert aps(hand_gt, dup)[0] == pytest.approx(5 / 6)

    def test_predictions_on_an_image_without_faces_count_nowhere(self, tmp_path):
        events = {"0--Parade": [*HAND_GT["0--Parade"], ("0_Parade_c", [], {})]}
        gt = read_ground_truth(write_gt(tmp_path / "gt", events))
        with_fp = {**HAND_PERFECT, "0--Parade/0_Parade_c": [[5, 5, 50, 50, 0.99]]}
        assert aps(gt, with_fp) == [1.0, 1.0, 1.0]

    def test_iou_uses_the_plus_one_pixel_convention(self, tmp_path):
        gt = read_ground_truth(write_gt(tmp_path / "gt", {"1--A": [("1_a", [(0, 0, 10, 10)], {"easy": [0]})]}))
        # plain IoU 66 / 134 = 0.49; with +1 pixel (7.6 * 11) / (2 * 121 - 83.6) = 0.53: a match
        assert aps(gt, {"1--A/1_a": [[3.4, 0, 10, 10, 0.9], [50, 50, 5, 5, 0.1]]})[0] == 1.0

    def test_scores_are_rescaled_over_the_set(self, hand_gt):
        logits = {k: [[*r[:4], np.log(r[4] / (1 - r[4]))] for r in v] for k, v in HAND_PERFECT.items()}
        assert aps(hand_gt, logits) == [1.0, 1.0, 1.0]

    def test_constant_scores_give_zero_as_the_official_code_does(self, hand_gt):
        constant = {k: [[*r[:4], 1.0] for r in v] for k, v in HAND_PERFECT.items()}
        result = score_widerface(hand_gt, {k: np.array(v) for k, v in constant.items()})
        assert [result.subsets[s].ap for s in SUBSETS] == [0.0, 0.0, 0.0]
        assert "max - min = 0" in result.warnings[0]

    def test_a_non_finite_score_is_refused(self, hand_gt):
        with pytest.raises(ValueError, match="finite"):
            score_widerface(hand_gt, {"0--Parade/0_Parade_b": np.array([[0, 0, 30, 30, np.inf]])})

    def test_curves_have_a_thousand_thresholds(self, hand_gt):
        result = score_widerface(hand_gt, {k: np.array(v, float) for k, v in HAND_PERFECT.items()})
        assert result.subsets["hard"].recall.shape == (1000,) and result.subsets["hard"].recall[-1] == 1.0
        assert result.to_dict()["easy"] == 1.0 and "Easy   Val AP: 1.0000" in result.summary()


class TestPredictionFiles:
    def test_official_layout_sorted_by_score(self, tmp_path):
        folder = write_predictions({"0--Parade/0_Parade_a": [[1, 2, 3, 4, 0.2], [5, 6, 7, 8, 0.9]]}, tmp_path)
        text = (folder / "0--Parade" / "0_Parade_a.txt").read_text().splitlines()
        assert text == ["0_Parade_a", "2", "5.0 6.0 7.0 8.0 0.900000", "1.0 2.0 3.0 4.0 0.200000"]
        name, rows = read_prediction_file(folder / "0--Parade" / "0_Parade_a.txt")
        assert name == "0_Parade_a" and rows.tolist() == [[5, 6, 7, 8, 0.9], [1, 2, 3, 4, 0.2]]

    def test_an_image_without_detections_gets_count_zero(self, tmp_path):
        write_predictions({"0--Parade/0_Parade_a": np.zeros((0, 5))}, tmp_path)
        assert (tmp_path / "0--Parade" / "0_Parade_a.txt").read_text() == "0_Parade_a\n0\n"

    def test_a_malformed_row_names_file_and_line(self, tmp_path):
        (tmp_path / "x.txt").write_text("a\n1\n1 2 3\n")
        with pytest.raises(ValueError, match=r"x.txt:3"):
            read_prediction_file(tmp_path / "x.txt")

    def test_a_key_without_event_is_refused(self, tmp_path):
        with pytest.raises(ValueError, match="<event>/<name>"):
            write_predictions({"0_Parade_a": []}, tmp_path)

    def test_from_files_equals_in_memory_and_missing_files_are_reported(self, tmp_path, hand_gt):
        predictions = {"0--Parade/0_Parade_a": np.array(HAND_PERFECT["0--Parade/0_Parade_a"], float)}
        folder = write_predictions(predictions, tmp_path / "pred")
        assert read_predictions(folder, hand_gt).keys() == predictions.keys()
        from_files = evaluate_widerface(folder, hand_gt.folder)
        assert from_files.aps == score_widerface(hand_gt, predictions).aps
        assert from_files.images_without_predictions == 1 and "no prediction file" in from_files.warnings[0]

    def test_a_folder_without_any_ground_truth_image_is_refused(self, tmp_path, hand_gt):
        (tmp_path / "pred" / "9--Other").mkdir(parents=True)
        with pytest.raises(FileNotFoundError, match="official layout"):
            evaluate_widerface(tmp_path / "pred", hand_gt)


@needs_reference
class TestReferencePort:
    """The same files through Pytorch_Retinaface's port of the official code and through the package."""

    @pytest.mark.parametrize("seed,logits", [(0, False), (1, True)])
    def test_hand_ground_truth_with_synthetic_predictions(self, tmp_path, hand_gt, seed, logits):
        tool = load_tool()
        predictions = tool.synthetic_predictions(hand_gt, seed=seed, logit_scores=logits)
        predictions["0--Parade/0_Parade_a"] = np.vstack([predictions["0--Parade/0_Parade_a"], [200, 200, 10, 10, 0.9]])
        folder = write_predictions(predictions, tmp_path / "pred")
        reference = tool.run_reference(REFERENCE_DIR, folder, hand_gt.folder)
        ours = evaluate_widerface(folder, hand_gt)
        assert ours.aps == pytest.approx(reference, abs=1e-12)

    @pytest.mark.parametrize("case", ["perfect", "fp"])
    def test_hand_cases(self, tmp_path, hand_gt, case):
        predictions = {k: np.array(v, float) for k, v in HAND_PERFECT.items()}
        if case == "fp":
            predictions["0--Parade/0_Parade_b"] = np.array([[0, 0, 30, 30, 0.7], [300, 300, 30, 30, 0.9]])
        folder = write_predictions(predictions, tmp_path / "pred")
        reference = load_tool().run_reference(REFERENCE_DIR, folder, hand_gt.folder)
        assert evaluate_widerface(folder, hand_gt).aps == pytest.approx(reference, abs=1e-12)

    @needs_real_gt
    def test_real_ground_truth_first_events(self, capsys):
        assert load_tool().main(["--events", "4", "--seed", "3"]) == 0
        out = capsys.readouterr().out
        assert "agree within 0.0001" in out and "largest difference 0.0e+00" in out


POINTS = ((10.0, 10.0, 2), (30.0, 10.0, 2), (20.0, 20.0, 2), (12.0, 30.0, 2), (28.0, 30.0, 2))


def shifted(face: FacePose, dx: float) -> FacePose:
    return FacePose(face.box, tuple((x + dx, y, 2) for x, y, _ in face.keypoints))


class TestLandmarkNME:
    def test_error_over_the_box_diagonal(self):
        face = FacePose((0, 0, 30, 40), POINTS)  # diagonal 50
        result = landmark_nme({"a": [face]}, {"a": [(shifted(face, 5), 0.9)]})
        assert result.nme == pytest.approx(0.1)
        assert result.per_point == pytest.approx(dict.fromkeys(FACE_LANDMARKS, 0.1))
        assert (result.n_faces, result.n_matched) == (1, 1)

    def test_unlabelled_points_and_unmatched_faces_do_not_count(self):
        face = FacePose((0, 0, 30, 40), (*POINTS[:4], (0.0, 0.0, 0)))
        far = FacePose((500, 500, 530, 540), POINTS)
        prediction = FacePose(face.box, (*shifted(face, 5).keypoints[:4], (900.0, 900.0, 2)))
        result = landmark_nme({"a": [face, far]}, {"a": [(prediction, 0.9)]})
        assert result.nme == pytest.approx(0.1) and np.isnan(result.per_point["right_mouth"])
        assert (result.n_faces, result.n_matched) == (2, 1)

    def test_the_best_scored_prediction_takes_the_face(self):
        face = FacePose((0, 0, 30, 40), POINTS)
        predictions = {"a": [(shifted(face, 10), 0.3), (shifted(face, 5), 0.8)]}
        assert landmark_nme({"a": [face]}, predictions).nme == pytest.approx(0.1)

    def test_interocular_normalisation(self):
        face = FacePose((0, 0, 30, 40), POINTS)  # eyes 20 px apart
        one_eye = FacePose((100, 0, 130, 40), ((0.0, 0.0, 0), *POINTS[1:]))
        predictions = {"a": [(shifted(face, 2), 0.9), (one_eye, 0.8)]}
        result = landmark_nme({"a": [face, one_eye]}, predictions, normalize="interocular")
        assert result.nme == pytest.approx(0.1) and (result.n_faces, result.n_matched) == (1, 1)
        assert "inter-ocular" in result.summary()

    def test_an_unknown_normalisation_is_refused(self):
        with pytest.raises(ValueError, match="diagonal, interocular"):
            landmark_nme({}, {}, normalize="box")


class TestModelDrivers:
    """Predicting through Ultralytics (random weights, tiny images): the files, the layout, the counts."""

    @pytest.fixture(scope="class")
    def faces(self, tmp_path_factory):
        from yolo_attention.data.faces_synthetic import make_synthetic_faces
        from yolo_attention.data.widerface_pose import read_pose_labels

        root = tmp_path_factory.mktemp("faces")
        data = make_synthetic_faces(root / "synthetic", n_train=1, n_val=3, imgsz=64, seed=5)
        images = sorted((root / "synthetic" / "images" / "val").glob("*.jpg"))
        release = root / "WIDER_val" / "images" / "7--Cheering"
        release.mkdir(parents=True)
        entries = []
        for i, image in enumerate(images):
            name = f"7_Cheering_Cheering_7_{i}"
            (release / f"{name}.jpg").write_bytes(image.read_bytes())
            faces = read_pose_labels(root / "synthetic" / "labels" / "val" / f"{image.stem}.txt", 64, 64)
            boxes = [(x1, y1, x2 - x1, y2 - y1) for x1, y1, x2, y2 in (f.box for f in faces)]
            entries.append((name, boxes, {s: list(range(len(boxes))) for s in SUBSETS}))
        gt = write_gt(root / "gt", {"7--Cheering": entries})
        return {"data": data, "release": release.parent, "gt": gt}

    def test_evaluate_model_writes_the_official_layout(self, faces, tmp_path):
        from ultralytics import YOLO

        from yolo_attention.eval.widerface import evaluate_model

        model = YOLO("yolov8n-face-ecasam-lite.yaml")
        result, folder = evaluate_model(model, faces["release"], faces["gt"], imgsz=64, out=tmp_path, progress=False)
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.txt"))
        assert files == [f"7--Cheering/7_Cheering_Cheering_7_{i}.txt" for i in range(3)]
        for path in folder.rglob("*.txt"):
            name, rows = read_prediction_file(path)
            assert name == path.stem and rows.shape[1] == 5 and int(path.read_text().splitlines()[1]) == len(rows)
        assert result.n_images == 3 and result.images_without_predictions == 0
        metrics = json.loads((tmp_path / "widerface_metrics.json").read_text())
        assert metrics["predict"] == {"imgsz": 64, "conf": 0.02, "iou": 0.5, "max_det": 1000}

    def test_predict_a_flat_folder_with_events_from_the_ground_truth(self, faces, tmp_path):
        from yolo_attention.eval.widerface import predict_widerface

        flat = tmp_path / "flat"
        flat.mkdir()
        for image in (faces["release"] / "7--Cheering").glob("*.jpg"):
            (flat / image.name).write_bytes(image.read_bytes())
        predictions = predict_widerface(
            "yolov8n-face-ecasam-lite.yaml", flat, imgsz=64, events=read_ground_truth(faces["gt"]), progress=False
        )
        assert sorted(predictions) == [f"7--Cheering/7_Cheering_Cheering_7_{i}" for i in range(3)]

    def test_evaluate_landmarks_counts_the_labelled_faces(self, faces):
        from yolo_attention.data.widerface_pose import read_pose_labels
        from yolo_attention.eval.widerface import evaluate_landmarks

        labels = (faces["data"].parent / "labels" / "val").glob("*.txt")
        n_faces = sum(len(read_pose_labels(p, 64, 64)) for p in labels)
        result = evaluate_landmarks("yolov8n-face-ecasam-lite.yaml", faces["data"], imgsz=64, progress=False)
        assert result.n_faces == n_faces and 0 <= result.n_matched <= n_faces

    def test_a_model_without_five_keypoints_is_refused_for_landmarks(self, faces):
        from yolo_attention.eval.widerface import evaluate_landmarks

        with pytest.raises(ValueError, match=r"\[5, 3\]"):
            evaluate_landmarks("yolov8n-pose.yaml", faces["data"], imgsz=64, progress=False)


@pytest.mark.parametrize(
    "module",
    [
        "yolo_attention.eval.widerface.reading",
        "yolo_attention.eval.widerface.predictions",
        "yolo_attention.eval.widerface.metric",
        "yolo_attention.eval.widerface.result",
        "yolo_attention.eval.widerface.landmarks",
        "yolo_attention.data.widerface",
        "yolo_attention.data.widerface_labels",
        "yolo_attention.data.widerface_pose",
        "yolo_attention.data.widerface_report",
        "yolo_attention.data.faces_synthetic",
    ],
)
def test_docstring_examples_run(module):
    import doctest

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
