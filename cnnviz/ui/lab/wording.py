"""Every sentence the training lab shows: tooltips in plain words, quoting the course's
CNN lecture where it helps."""

from __future__ import annotations

from cnnviz.core.basics.formulas import CONV_PARAM_RULE, DENSE_PARAM_RULE, SIZE_RULE, fmt_count

TAB_TIP = ("Build a network layer by layer, train it on MNIST or Fashion-MNIST and watch it "
           "learn: loss curves, the first layer's filters, your own drawing's answer, the "
           "confusion matrix.")

# The editor
PRESET_TIP = ("Start from a network: the lecture's Keras example, its 4-layer deep CNN, "
              "cnnviz's default, a small fast one, an all-convolutional one (stride-2 "
              "convolutions instead of pooling: the lecture's “To POOL or CONV?”) or a fully "
              "connected one (the lecture's “3 Layers of ANN”). Undo brings your own back.")
TABLE_TIP = (f"The network, one layer a row, with the output shape and parameter count of "
             f"each worked out with the lecture's formulas: output size {SIZE_RULE}; a conv "
             f"layer has {CONV_PARAM_RULE} parameters, a dense layer {DENSE_PARAM_RULE}. A red "
             "row cannot work (it says why); amber notes are the lecture's rules of thumb, "
             "never required. Click a row to edit its numbers below.")
ADD_TIP = "Add a layer after the selected one (at the end when none is selected)."
REMOVE_TIP = "Remove the selected layer."
UP_TIP = "Move the selected layer one place towards the input."
DOWN_TIP = "Move the selected layer one place towards the output."
UNDO_TIP = "Undo the last change to the network (a field, a layer added, removed or moved, a preset, the text or the JSON)."
REDO_TIP = "Redo the change you undid."
TEXT_TIP = ("The whole network as one line: comma-separated layers (-> also works), e.g. "
            "conv 64 3, relu, maxpool 2, conv 64 3, relu, maxpool 2, flatten, dense 10. "
            "Layers: conv F K [stride=S] [pad=P] (K, S, P are 3 or 3x5), maxpool K "
            "[stride=S], avgpool, minpool, relu, leaky_relu, elu, tanh, sigmoid, softmax, bn, "
            "dropout P, flatten, dense N. Or paste your Keras code (a Sequential list, "
            "model.add lines or the functional style; a whole notebook cell is fine): it is "
            "read, never run. Press Enter to use it.")
EXPORT_TIP = ("Take this network to your notebook: as Keras code in the lecture's style "
              "(keras.Sequential with layers.Conv2D, ...) or as a PyTorch nn.Module, each "
              "with the same layers, shapes and parameter count as here.")
EXPORT_ACTIONS = (
    # (menu text, what: "keras" or "pytorch", save to a file?, tooltip)
    ("Copy as Keras code", "keras", False, "Copy the network as Keras code (the lecture's "
     "style) to the clipboard, ready to paste into a notebook."),
    ("Copy as PyTorch code", "pytorch", False, "Copy the network as a PyTorch nn.Module (the "
     "style of PyTorch's MNIST example, with each step's shape) to the clipboard."),
    ("Save as Keras .py…", "keras", True, "Save the network as a Python file of Keras code."),
    ("Save as PyTorch .py…", "pytorch", True, "Save the network as a Python file of PyTorch "
     "code."),
)
CODE_NAMES = {"keras": "Keras", "pytorch": "PyTorch"}


def code_note(reading) -> str:
    """What the lab says under the text after reading Keras code (a KerasReading)."""
    total, trainable = reading.total_parameters, reading.trainable_parameters
    count = f"{fmt_count(total)} parameters as Keras counts them"
    if total != trainable:
        count += (f" ({fmt_count(trainable)} trained; the rest are batch norm's moving means "
                  "and variances)")
    return " ".join([f"Read as Keras code ({reading.style}): {len(reading.rows)} Keras layers, "
                     f"{count}.", *reading.notes])


CODE_NOTE_TIP = ("What was read from the pasted Keras code: its parameters as Keras counts "
                 "them, and which lines were left out or read approximately.")
JSON_TIP = ("The same network as JSON, in the layout of a weights file's header. It also "
            "holds what the one-line form leaves out: the name, the input shape and the input "
            "normalisation (mean and std). Edit it and press “Use this JSON”.")
APPLY_TEXT_TIP = "Replace the network with the one written in the line above."
APPLY_JSON_TIP = "Replace the network with the one written in the JSON above."
TOTAL_TIP = ("Every trainable weight and bias of the network added up. The lecture's “3 "
             "Layers of ANN” needs far more than a CNN of similar accuracy: a convolution "
             "uses the same few weights at every position.")

ADD_KINDS = (
    # (menu text, one-line form of the new layer, tooltip)
    ("Convolution", "conv 32 3", "A conv layer: 32 filters of 3×3, stride 1, no padding. "
     "“A weighted sum of the pixel values of the image as the window slides across the "
     "whole image.”"),
    ("Max pooling", "maxpool 2", "2×2 max pooling, stride 2: keeps the largest value of each "
     "window and halves the width and height."),
    ("Average pooling", "avgpool 2", "2×2 average pooling, stride 2."),
    ("Min pooling", "minpool 2", "2×2 min pooling, stride 2: keeps the smallest value."),
    ("ReLU", "relu", "“Change all negative values to zero, leave all positive values alone.”"),
    ("Leaky ReLU", "leaky_relu", "Like ReLU, but negative values keep a small slope (0.01)."),
    ("ELU", "elu", "x above zero, e^x − 1 below."),
    ("Tanh", "tanh", "Squashes every value into −1…1."),
    ("Sigmoid", "sigmoid", "Squashes every value into 0…1."),
    ("Batch norm", "bn", "Normalises each channel over the batch, then scales and shifts it: "
     "the lecture's rule of thumb says to apply it where possible."),
    ("Dropout", "dropout 0.25", "Switches off a random quarter of the values while training "
     "(never when the network is used): fights overfitting."),
    ("Flatten", "flatten", "Lays the feature maps out as one long row for the dense layers."),
    ("Dense", "dense 128", "A fully connected layer of 128 units."),
    ("Softmax", "softmax", "Turns the last 10 scores into probabilities (optional: the "
     "training and the display add it)."),
)

FIELD_TIPS = {
    "filters": "How many filters (kernels) this layer learns: each makes one feature map.",
    "kernel_h": "Kernel height F_h (rows). Rule of thumb: small, such as 3×3, 5×5 or 1×1.",
    "kernel_w": "Kernel width F_w (columns).",
    "stride_h": "Stride S down the rows: how far the window moves each step. Rule of thumb: "
                "1, unless the stride replaces pooling.",
    "stride_w": "Stride S along the columns.",
    "pad_h": "Zero padding P added above and below: “pad the input volume with zeros "
             "around the border” so the output keeps its size.",
    "pad_w": "Zero padding P added left and right.",
    "pool_kind": "What each window keeps: the largest (max), the average or the smallest (min).",
    "pool_size": "The pooling window's side (F). Rule of thumb: 2×2.",
    "pool_stride": "How far the pooling window moves each step (S). Rule of thumb: 2.",
    "activation": "The activation function: “used to introduce non-linearity in the system”.",
    "dropout": "The share of values switched off at random while training (0 to below 1).",
    "units": "How many units (neurons) this dense layer has; the last layer needs 10, one per class.",
}

# Training settings
DATASET_TIP = ("What to learn: MNIST's handwritten digits, or Fashion-MNIST's pictures of "
               "clothes (10 kinds). Both are 28×28 grey images: 60,000 to train on, 10,000 "
               "to test on.")
OPTIMIZER_TIP = ("How the weights are changed after each batch. SGD (stochastic gradient "
                 "descent) moves every weight a step against its gradient, as the lecture's "
                 "Keras example does; Adam adapts the step for each weight and usually "
                 "learns faster.")
MOMENTUM_TIP = ("SGD's momentum: how much of the last step is kept in the next one (0 to "
                "below 1). 0 is the lecture's Keras example (plain SGD); 0.9 is common.")
BETA1_TIP = ("Adam's β1: how much of the past gradients its running average keeps (0.9 is "
             "usual). Lower follows the newest gradient sooner, which helps a short run; the "
             "fast preset's recipe uses 0.7.")
LR_TIP = ("The learning rate: how big each step is. Too small learns slowly, too big makes "
          "the loss jump or become NaN. The lecture's Keras example uses SGD with 0.01; Adam "
          "works well around 0.001 to 0.003. From 0.00001 to 10 (try 1.0 with Adam to see a run "
          "blow up).")
BATCH_TIP = ("How many images the network sees before each weight update (the lecture's "
             "Keras example: 128). Larger batches are faster per image, smaller ones update "
             "more often.")
EPOCHS_TIP = ("How many times the whole training set is gone through (the lecture's Keras "
              "example: 5). “Train more epochs” can add more later.")
SCHEDULE_TIP = ("How the learning rate moves during training: constant, or one-cycle (it "
                "rises to the rate you set, then falls to almost zero by the last batch, "
                "which usually gets higher accuracy in fewer epochs).")
AUGMENT_TIP = ("Show each training image slightly changed (rotated, scaled, shifted, thicker "
               "or thinner strokes), as people's drawings vary; slower to learn, better on "
               "your own drawings.")
SEED_TIP = ("The random seed of the initial weights and of the order of the images: the same "
            "seed and settings train the same network again.")
LIMIT_TIP = ("Train on the first N training images only (a quick try); “all” uses all "
             "60,000.")
LECTURE_SETTINGS_TIP = ("The lecture's Keras example: SGD, learning rate 0.01, momentum 0, "
                        "batch 128, 5 epochs, constant rate, no augmentation.")

# Running
START_TIP = ("Train the network above from random initial weights (seeded), with these "
             "settings. The window stays responsive; training runs beside it.")
PAUSE_TIP = "Pause the training after the current batch; Resume goes on from there."
RESUME_TIP = "Go on training from where it paused."
STOP_TIP = ("Stop the training (within a second). The weights of the last complete epoch "
            "are kept, and you can name and keep the network.")
MORE_TIP = "Train the same network for more epochs, starting from its current weights."
MORE_COUNT_TIP = "How many more epochs “Train more” adds."
FOLLOW_TIP = ("Show the network being trained in the CNN explorer, with its newest weights: "
              "its feature maps change as it learns.")
PROGRESS_TIP = "Batches done in this run, the time it has taken and about how long is left."

# Live
LOSS_TIP = ("The training loss after each batch (cross-entropy: small when the network "
            "gives the right class a high probability), and the test loss after each epoch "
            "(on 10,000 images it never trains on). Both should fall.")
ACC_TIP = ("The share of test images the network gets right after each epoch, and of the "
           "training images during the epoch. The lecture's homework: better than 98% on MNIST.")
FILTERS_TIP = ("The first convolution's filters, redrawn as they learn: they start as random "
               "noise and turn into edge and stroke detectors. “Filters are learned "
               "automatically.” Red is positive, blue negative.")
FILTER_MODE_TIP = ("Filters now: each filter at its own scale, so even a faint one shows its "
                   "pattern (random noise at the start looks as strong as a learned edge). "
                   "Change since the start: what training added, all filters at one scale, so "
                   "the filters that learned most stand out.")
PROBE_TIP = ("Your current drawing (the 28×28 input the network reads), read by the network "
             "being trained: its answer and the ten probabilities change as it learns.")
CONFUSION_TIP = ("After each epoch: how the 10,000 test images were read. A row is the true "
                 "class, a column what the network said; the diagonal is right. Click a cell "
                 "to see those images.")
CELL_IMAGES_TIP = ("The test images of the clicked cell, with what the network said and how "
                   "sure it was. Click one to make it the input (it appears on the pad).")

# Finishing
NAME_TIP = ("A name for the trained network: it joins the model picker under this name and "
            "is kept in your models folder, so it is there after a restart.")
KEEP_TIP = ("Keep the network in your models folder and add it to the CNN explorer's model "
            "picker.")
SAVE_AS_TIP = ("Save the network as a .safetensors file with its card (architecture, dataset, "
               "accuracy, training settings, seed); `cnnviz evaluate --weights FILE` and "
               "`cnnviz predict --weights FILE` read it.")
SAVE_PROGRESS_TIP = ("Keeping or saving the network: the unsure verdict's threshold is "
                     "measured on test pictures first, then the file is written.")
DOWNLOAD_TIP = ("Download the four official files from the public mirrors (about 11 MB for "
                "MNIST, 30 MB for Fashion-MNIST), each checked against its published SHA-256.")
CHOOSE_FOLDER_TIP = ("Choose a folder that holds mnist/ or fashion-mnist/ with the four "
                     "official .gz files.")

# Help › Keyboard shortcuts (after the window's own rows)
SHORTCUT_ROWS = (
    ("Undo / redo a network edit (training lab)", "The Undo and Redo buttons by the presets"),
    ("Use the network's one-line text (training lab)", "Enter in the text field"),
    ("Keep the trained network under its name (training lab)", "Enter in the name field"),
    ("See a confusion cell's test images (training lab)", "Click the cell"),
)
