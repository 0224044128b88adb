// EMSeg batch segmentation: every image of a folder -> <name>_labels.tif, <name>_results.csv,
// <name>_overlay.png, plus summary.csv with every particle (column File names the image).
// Unreadable or failing files are logged and skipped; the batch goes on. DM3/DM4, SER, EMD and
// MRC files are read by EMSeg's backend (Open Microscope File...) with their pixel size.
//
// Headless:  emseg imagej --headless --macro macros/batch_segment.ijm --args "input=DIR output=DIR"
// Fiji:      ImageJ-linux64 --headless -macro batch_segment.ijm "input=DIR output=DIR"
// Optional arguments: model=NAME|FOLDER pixel_size=NM (0 = each file's calibration)
//                     threshold=T (0 = the model's tuned value) keep_data_bar
//                     classifier=NAME|FOLDER|none (default none) min_score=S (0 = classifier's)
// With a classifier, Classifier Filter runs after the segmentation and also writes
// <name>_kept.tif (the particles fit for statistics) and <name>_classified.csv (every particle
// with Score and Kept); the overlay then shows kept particles green, discarded red, and
// summary.csv holds the classified tables.
// Stacks (MRC/REC tomograms, TIFF stacks) go to the volume pipeline with volume_model=NAME
// (default emseg-vesicles-cryoet; pixel_size is then the voxel size) and write
// <name>_labels.tif (label stack), <name>_vesicles.csv (one refined sphere per vesicle) and
// <name>_overlay.png (the middle slice with the vesicles' circles); vesicle_summary.csv holds
// every vesicle. Add no_refine to keep the segments instead of refined spheres.
// A multi-class model (organelles) writes <name>_classes.tif (class indices, label LUT, class
// names), <name>_classes.csv (class areas), <name>_<class>_labels.tif and _<class>_results.csv
// for its instance classes, and <name>_overlay.png; summary.csv then has one row per image
// (each class's area and fraction, each instance class's number of objects).
// Without arguments a dialog asks for them.

args = getArgument();
if (args == "") {
    Dialog.create("EMSeg batch segmentation");
    Dialog.addDirectory("Input folder", "");
    Dialog.addDirectory("Output folder", "");
    Dialog.addString("Model", "emseg-particles-sem", 28);
    Dialog.addNumber("Pixel size (nm, 0 = from files)", 0);
    Dialog.addNumber("Threshold (0 = model's)", 0);
    Dialog.addString("Classifier (none = keep all)", "emseg-classifier-sem", 28);
    Dialog.addNumber("Minimum score (0 = classifier's)", 0);
    Dialog.show();
    args = "input=[" + Dialog.getString() + "] output=[" + Dialog.getString() + "] model=["
        + Dialog.getString() + "] pixel_size=" + Dialog.getNumber() + " threshold=" + Dialog.getNumber()
        + " classifier=[" + Dialog.getString() + "] min_score=" + Dialog.getNumber();
}
input = folder(argValue(args, "input", ""));
output = folder(argValue(args, "output", ""));
if (input == File.separator || output == File.separator)
    exit("EMSeg batch: give input=FOLDER output=FOLDER");
if (!File.isDirectory(input))
    exit("EMSeg batch: input folder " + input + " does not exist");
model = argValue(args, "model", "emseg-particles-sem");
volumeModel = argValue(args, "volume_model", "emseg-vesicles-cryoet");
refine = " refine_spheres";
if (indexOf(" " + args + " ", " no_refine ") >= 0) refine = "";
pixel = argValue(args, "pixel_size", "0");
threshold = argValue(args, "threshold", "0");
classifier = argValue(args, "classifier", "none");
minScore = argValue(args, "min_score", "0");
bar = "";
if (indexOf(" " + args + " ", " keep_data_bar ") >= 0) bar = " keep_data_bar";
File.makeDirectory(output);

setBatchMode(true);
F = "org.emseg.fiji.MacroFunctions.";
call(F + "clearTable", "EMSeg Summary");
call(F + "clearTable", "EMSeg Vesicle Summary");
list = getFileList(input);
Array.sort(list);
done = 0; skipped = 0; particles = 0; kept = 0; volumes = 0; vesicles = 0;
for (i = 0; i < list.length; i++) {
    name = list[i];
    if (!isImageName(name)) continue;
    showProgress(i, list.length);
    path = input + name;
    if (isMicroscopeName(name)) {
        // DM3/DM4, SER, EMD, MRC: read by EMSeg's backend, with their pixel size
        run("Open Microscope File...", "path=[" + path + "]");
        error = call(F + "lastError");
        if (error != "") {
            print("EMSeg batch: skipped " + name + ": " + error);
            skipped++;
            continue;
        }
    } else {
        problem = call(F + "checkImage", path);
        if (problem != "") {
            print("EMSeg batch: skipped " + problem);
            skipped++;
            continue;
        }
        open(path);
    }
    image = getImageID();
    stem = stemOf(getTitle());
    if (nSlices > 1) {
        // a tomogram: the volume pipeline
        run("Segment Particles...", "model=[" + volumeModel + "] voxel_size=" + pixel + " threshold="
            + threshold + refine + " circles");
        error = call(F + "lastError");
        if (error != "") {
            print("EMSeg batch: skipped " + name + ": " + error);
            skipped++;
            closeAll();
            continue;
        }
        selectImage(stem + "_labels");
        saveAs("Tiff", output + stem + "_labels.tif");
        check(call(F + "saveTable", "EMSeg Results", output + stem + "_vesicles.csv"));
        selectImage(image);
        setSlice(floor((nSlices + 1) / 2));
        check(call(F + "saveFlattened", output + stem + "_overlay.png"));
        check(call(F + "appendTable", "EMSeg Results", "EMSeg Vesicle Summary", name));
        vesicles += parseInt(call(F + "tableSize", "EMSeg Results"));
        volumes++;
        done++;
        closeAll();
        continue;
    }
    run("Segment Particles...", "model=[" + model + "] pixel_size=" + pixel + " threshold=" + threshold + bar);
    error = call(F + "lastError");
    if (error != "") {
        print("EMSeg batch: skipped " + name + ": " + error);
        skipped++;
        closeAll();
        continue;
    }
    if (isOpen(stem + "_classes")) {
        // a multi-class model: the class image, class areas, objects of the instance classes
        check(call(F + "saveClassResults", output, stem));
        selectImage(image);
        check(call(F + "saveFlattened", output + stem + "_overlay.png"));
        check(call(F + "appendTable", "EMSeg Class Summary", "EMSeg Summary", name));
        particles += parseInt(call(F + "tableSize", "EMSeg Results"));
        done++;
        closeAll();
        continue;
    }
    selectImage(stem + "_labels");
    labels = getImageID();
    saveAs("Tiff", output + stem + "_labels.tif");
    check(call(F + "saveTable", "EMSeg Results", output + stem + "_results.csv"));
    if (toLowerCase(classifier) != "none") {
        selectImage(labels);
        run("Classifier Filter...", "image=[" + name + "] classifier=[" + classifier + "] minimum_score="
            + minScore + " pixel_size=" + pixel);
        error = call(F + "lastError");
        if (error != "") {
            print("EMSeg batch: classifier failed on " + name + ": " + error);
            skipped++;
            closeAll();
            continue;
        }
        selectImage(stem + "_labels_kept");
        saveAs("Tiff", output + stem + "_kept.tif");
        check(call(F + "saveTable", "EMSeg Results", output + stem + "_classified.csv"));
        kept += parseInt(call(F + "keptCount", "EMSeg Results"));
    }
    selectImage(image);
    check(call(F + "saveFlattened", output + stem + "_overlay.png"));
    check(call(F + "appendTable", "EMSeg Results", "EMSeg Summary", name));
    particles += parseInt(call(F + "tableSize", "EMSeg Results"));
    done++;
    closeAll();
}
if (done > volumes) check(call(F + "saveTable", "EMSeg Summary", output + "summary.csv"));
if (volumes > 0) check(call(F + "saveTable", "EMSeg Vesicle Summary", output + "vesicle_summary.csv"));
keptNote = "";
if (toLowerCase(classifier) != "none") keptNote = " (" + kept + " kept by " + classifier + ")";
volumeNote = "";
if (volumes > 0) volumeNote = ", " + volumes + " tomogram(s) with " + vesicles + " vesicles";
print("EMSeg batch: " + (done - volumes) + " image(s), " + particles + " particles" + keptNote + volumeNote
    + ", " + skipped + " skipped; results in " + output);
showProgress(1);
return "" + done + " " + skipped;

// ---------------------------------------------------------------------------
function argValue(text, key, default) {
    // key=value or key=[value with spaces], as ImageJ's own option strings
    t = " " + text;
    k = indexOf(t, " " + key + "=");
    if (k < 0) return default;
    v = substring(t, k + lengthOf(key) + 2);
    if (startsWith(v, "[")) return substring(v, 1, indexOf(v, "]"));
    e = indexOf(v, " ");
    if (e < 0) return v;
    return substring(v, 0, e);
}

function folder(path) {
    if (endsWith(path, "/") || endsWith(path, File.separator)) return path;
    return path + File.separator;
}

function isImageName(name) {
    n = toLowerCase(name);
    if (startsWith(n, ".") || endsWith(n, "_labels.tif") || endsWith(n, "_prob.tif")
        || endsWith(n, "_kept.tif") || endsWith(n, "_classes.tif") || indexOf(n, "_prob_") >= 0)
        return false;
    if (isMicroscopeName(name)) return true;
    return endsWith(n, ".tif") || endsWith(n, ".tiff") || endsWith(n, ".png") || endsWith(n, ".jpg") || endsWith(n, ".jpeg");
}

function isMicroscopeName(name) {
    n = toLowerCase(name);
    exts = newArray(".dm3", ".dm4", ".ser", ".emd", ".mrc", ".rec");
    for (j = 0; j < exts.length; j++)
        if (endsWith(n, exts[j])) return true;
    return false;
}

function stemOf(title) {
    t = toLowerCase(title);
    exts = newArray(".ome.tiff", ".ome.tif", ".tiff", ".tif", ".png", ".jpeg", ".jpg", ".dm3", ".dm4",
        ".ser", ".emd", ".mrc", ".rec");
    for (j = 0; j < exts.length; j++)
        if (endsWith(t, exts[j])) return substring(title, 0, lengthOf(title) - lengthOf(exts[j]));
    return title;
}

function check(message) {
    if (message != "") print("EMSeg batch: " + message);
}

function closeAll() {
    while (nImages > 0) {
        selectImage(nImages);
        close();
    }
}
