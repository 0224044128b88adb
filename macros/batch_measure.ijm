// EMSeg batch measurement of existing label images (or binary masks): every image of a folder
// -> <name>_measurements.csv, plus summary.csv with every particle (column File).
// With images=FOLDER, <stem>.tif there (stem = label file name without _labels/_mask/_m)
// is measured as the intensity image (adds Mean, StdDev, Min, Max, Median).
//
// Headless: emseg imagej --headless --macro macros/batch_measure.ijm --args "input=DIR output=DIR"
// Optional: images=DIR pixel_size=NM (0 = each file's calibration) connectivity=8|4

args = getArgument();
if (args == "") {
    Dialog.create("EMSeg batch measurement");
    Dialog.addDirectory("Label images", "");
    Dialog.addDirectory("Output folder", "");
    Dialog.addDirectory("Intensity images (optional)", "");
    Dialog.show();
    args = "input=[" + Dialog.getString() + "] output=[" + Dialog.getString() + "] images=["
        + Dialog.getString() + "]";
}
input = folder(argValue(args, "input", ""));
output = folder(argValue(args, "output", ""));
images = argValue(args, "images", "");
if (images != "") images = folder(images);
if (!File.isDirectory(input))
    exit("EMSeg batch: input folder " + input + " does not exist");
pixel = argValue(args, "pixel_size", "0");
connectivity = argValue(args, "connectivity", "8");
File.makeDirectory(output);

setBatchMode(true);
F = "org.emseg.fiji.MacroFunctions.";
call(F + "clearTable", "EMSeg Summary");
list = getFileList(input);
Array.sort(list);
done = 0; skipped = 0;
for (i = 0; i < list.length; i++) {
    name = list[i];
    n = toLowerCase(name);
    if (startsWith(n, ".") || !(endsWith(n, ".tif") || endsWith(n, ".tiff") || endsWith(n, ".png"))) continue;
    showProgress(i, list.length);
    problem = call(F + "checkImage", input + name);
    if (problem != "") {
        print("EMSeg batch: skipped " + problem);
        skipped++;
        continue;
    }
    stem = stemOf(name);
    intensity = "none";
    if (images != "" && File.exists(images + stem + ".tif")) {
        open(images + stem + ".tif");
        intensity = getTitle();
    }
    open(input + name);
    run("Measure Particles...", "intensity_image=[" + intensity + "] connectivity=" + connectivity + " pixel_size=" + pixel);
    error = call(F + "lastError");
    if (error != "") {
        print("EMSeg batch: skipped " + name + ": " + error);
        skipped++;
    } else {
        check(call(F + "saveTable", "EMSeg Results", output + stem + "_measurements.csv"));
        check(call(F + "appendTable", "EMSeg Results", "EMSeg Summary", name));
        done++;
    }
    while (nImages > 0) { selectImage(nImages); close(); }
}
if (done > 0) check(call(F + "saveTable", "EMSeg Summary", output + "summary.csv"));
print("EMSeg batch: measured " + done + " file(s), " + skipped + " skipped; results in " + output);
return "" + done + " " + skipped;

function argValue(text, key, default) {
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

function stemOf(name) {
    s = name;
    d = lastIndexOf(s, ".");
    if (d > 0) s = substring(s, 0, d);
    suffixes = newArray("_labels", "_mask", "_m");
    for (j = 0; j < suffixes.length; j++)
        if (endsWith(s, suffixes[j])) return substring(s, 0, lengthOf(s) - lengthOf(suffixes[j]));
    return s;
}

function check(message) {
    if (message != "") print("EMSeg batch: " + message);
}
