"""The bottom layer: SVG drawing, small multiples, and how a widget reaches the notebook.

``svgplot`` draws axes, ticks and curves as SVG text; ``plotgrid`` lays out panels;
``axes`` decides a chart's axes once, for its static picture and its browser view alike;
``svg_view`` shows an SVG that can be replaced; ``display`` gives every widget its
static picture; ``runner`` runs a widget's work in the kernel's background thread.
Nothing here imports the layers above (views, training, explorer).
"""
